"""The ``si-survey`` command line.

Each subcommand is a thin shell around a Python function of the package, so
everything the command does can also be done from a notebook. Errors are
printed as one plain sentence (``--debug`` shows the Python traceback) and the
process exits with a non-zero code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import config
from analysis.errors import SiSurveyError

__all__ = ["main", "build_parser"]

_DESCRIPTION = """\
si-survey: from the questionnaire to the thesis tables.

Typical use: edit the questionnaire in questionnaire/, build the KoboToolbox
form with 'si-survey instrument', collect the data, put the export in
data/raw/, then run everything with 'si-survey run'.
"""


def _formats(text: str) -> list[str]:
    allowed = {"docx", "tex", "html", "md", "xlsx"}
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in allowed]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {', '.join(bad)}; choose among {', '.join(sorted(allowed))}"
        )
    return items


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``si-survey`` command."""
    parser = argparse.ArgumentParser(
        prog="si-survey",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full Python traceback when something fails"
    )
    # --debug is accepted before or after the subcommand
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full Python traceback when something fails",
    )
    common.add_argument(
        "--questionnaire",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of the questionnaire files (default: questionnaire/), e.g. an edited copy",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "instrument",
        parents=[common],
        help="build the KoboToolbox/ODK form (XLSForm) and the codebook from questionnaire/",
        description=(
            "Read the questionnaire text files in questionnaire/, check them, and write the "
            "XLSForm to upload to KoboToolbox (si_survey.xlsx) and the codebook "
            "(codebook.csv, codebook.xlsx, codebook.md)."
        ),
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder to write to (default: the build/ folder of the questionnaire)",
    )

    p = sub.add_parser(
        "simulate",
        parents=[common],
        help="simulate a realistic, messy survey export with a known truth",
        description=(
            "Simulate N organisations answering the questionnaire, export them as KoboToolbox "
            "would, and write the true parameters, latent scores and the ledger of planted "
            "problems in files named truth*."
        ),
    )
    p.add_argument("--n", type=int, default=1500, help="number of organisations (default 1500)")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument("--out", type=Path, required=True, help="folder to write the export to")
    p.add_argument(
        "--format",
        choices=["kobo-csv", "kobo-xlsx", "spss"],
        default="kobo-csv",
        help="export format (default kobo-csv)",
    )
    p.add_argument(
        "--clean-only",
        action="store_true",
        help="no messiness: no duplicates, tests, speeders, variants or personal data",
    )

    p = sub.add_parser(
        "clean",
        parents=[common],
        help="validate and clean raw exports into data/processed/ with an audit trail",
        description=(
            "Read the raw exports (default: the bundled demo export), check them against the "
            "codebook, apply the cleaning rules of questionnaire/cleaning.yaml and write "
            "survey.parquet, cleaning_log.csv, validation.csv, flow.csv and a manifest. "
            "Files in data/raw/ are never modified."
        ),
    )
    p.add_argument("raw", nargs="*", type=Path, help="raw export files (CSV, XLSX, SAV, DTA)")
    p.add_argument(
        "--out", type=Path, default=config.PROCESSED_DIR, help="output folder (default data/processed/)"
    )
    p.add_argument("--form", type=Path, default=None,
                   help="clean the exports of another form (an XLSForm .xlsx/.xls, or a folder with "
                        "survey.csv, choices.csv, settings.csv) with the generic rules only")
    p.add_argument("--time-zone", default=None, metavar="OFFSET",
                   help="UTC offset of timestamps (start, end, dateTime questions) written without one, "
                        "e.g. +01:00 (default: cleaning.yaml; else the offset the submission's end/start "
                        "carries; else inferred from _submission_time and reported)")
    p.add_argument("--private", type=Path, default=None,
                   help="folder of the link table (default private/, or beside --out with --form)")
    p.add_argument("--decisions", type=Path, default=None,
                   help="decision files or their folder (default data/decisions/ when it exists; not with --form)")

    p = sub.add_parser(
        "tables",
        parents=[common],
        help="render the thesis tables and figures from the cleaned data",
        description=(
            "Render every table of the table plan (questionnaire/tables.yaml) and every figure, "
            "in the requested formats, from the cleaned dataset."
        ),
    )
    p.add_argument(
        "--data",
        type=Path,
        default=config.PROCESSED_DIR,
        help="folder holding survey.parquet (default data/processed/)",
    )
    p.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="output folder (default reports/)")
    p.add_argument(
        "--formats",
        type=_formats,
        default=_formats("docx,tex,html,md,xlsx"),
        help="comma-separated formats among docx,tex,html,md,xlsx (default: all)",
    )
    p.add_argument("--lang", choices=["fr", "en"], default="fr", help="label language (default fr)")

    p = sub.add_parser(
        "run",
        parents=[common],
        help="the main job: clean, score, analyse, and render every table and figure",
        description=(
            "From the raw exports (default: the bundled demo export in data/raw/demo/) through "
            "data/processed/ to reports/: clean, score the constructs, run the analyses and "
            "render all tables and figures. Stages whose inputs did not change are skipped."
        ),
    )
    p.add_argument("raw", nargs="*", type=Path, help="raw export files (default: the demo export)")
    p.add_argument("--processed", type=Path, default=config.PROCESSED_DIR, help="default data/processed/")
    p.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="default reports/")
    p.add_argument(
        "--formats",
        type=_formats,
        default=_formats("docx,tex,html,md,xlsx"),
        help="comma-separated formats among docx,tex,html,md,xlsx (default: all)",
    )
    p.add_argument("--lang", choices=["fr", "en"], default="fr", help="label language (default fr)")
    p.add_argument("--force", action="store_true", help="recompute every stage even if unchanged")
    p.add_argument("--decisions", type=Path, default=None,
                   help="decision files or their folder (default data/decisions/ when it exists)")

    p = sub.add_parser(
        "sample",
        parents=[common],
        help="draw a stratified sample of organisations from a list frame",
        description=(
            "Draw a stratified random sample from FRAME (CSV or XLSX, one organisation per row; region "
            "and legal-form names harmonised as in cleaning) and write DIR/sample.csv (with stratum, "
            "inclusion_prob, design_weight, reserve_rank), DIR/allocation.csv (targets per stratum) and "
            "the frame counts for the weights (DIR/sampling_frame.csv, DIR/population.yaml)."
        ),
    )
    p.add_argument("frame", type=Path, help="the list frame (CSV or XLSX)")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--n", type=int, help="sample size")
    size.add_argument("--moe", type=float, help="margin of error of a proportion (e.g. 0.05): gives the sample size")
    p.add_argument("--strata", required=True, help="comma-separated stratum columns, e.g. region,legal_form")
    p.add_argument("--allocation", choices=["proportional", "equal", "neyman"], default="proportional",
                   help="allocation to the strata (default proportional)")
    p.add_argument("--sd", type=Path, help="standard deviation per stratum (CSV: stratum columns and sd), for neyman")
    p.add_argument("--min-per-stratum", type=int, default=None, help="minimum sample size of every stratum")
    p.add_argument("--reserve", type=float, default=0,
                   help="replacements per stratum: a count, or a share of n_h if below 1 (default 0)")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same sample)")
    p.add_argument("--out", type=Path, required=True, help="folder to write to (keep it in private/)")

    p = sub.add_parser(
        "monitor",
        parents=[common],
        help="write the daily monitoring page of the collection (monitor.html)",
        description=(
            "Read the raw exports downloaded so far, run the fieldwork checks (questionnaire/fieldwork.yaml, "
            "checks.csv) and write DIR/monitor.html: completes by day against the target, progress by "
            "stratum, enumerators ranked by fabrication risk, flagged submissions of the day, skip-logic "
            "and constraint problems. The page shows enumerator accounts: keep it in private/."
        ),
    )
    p.add_argument("raw", nargs="+", type=Path, help="raw export files (CSV, XLSX)")
    p.add_argument("--targets", type=Path, help="allocation.csv written by 'si-survey sample' (or its folder)")
    p.add_argument("--form", type=Path, help="another form: a folder with survey.csv, choices.csv, settings.csv, or an XLSForm .xlsx")
    p.add_argument("--out", type=Path, required=True, help="folder to write monitor.html to")

    p = sub.add_parser(
        "review",
        parents=[common],
        help="write the review workbook: one row per flagged answer to decide (review.xlsx)",
        description=(
            "Run the fieldwork checks on the raw exports and write DIR/review.xlsx: one row per point "
            "to decide (uuid, question, old_value, issue, check_id, change_type, new_value, with the "
            "enumerator, the stratum and the context), change_type as a drop-down list. Fill "
            "change_type (and new_value) and put the workbook in data/decisions/: 'si-survey clean' "
            "and 'run' apply it. Points already decided there are not asked again. The workbook "
            "shows raw answers: keep it in private/ (the default)."
        ),
    )
    p.add_argument("raw", nargs="+", type=Path, help="raw export files (CSV, XLSX)")
    p.add_argument("--form", type=Path, help="another form: a folder with survey.csv, choices.csv, settings.csv, or an XLSForm .xlsx")
    p.add_argument("--decisions", type=Path, default=config.DECISIONS_DIR,
                   help="decisions already taken (default data/decisions/)")
    p.add_argument("--out", type=Path, default=config.PRIVATE_DIR / "review",
                   help="folder to write review.xlsx to (default private/review/)")

    p = sub.add_parser(
        "verify",
        parents=[common],
        help="prove that the analysis file is the raw exports plus the logged changes",
        description=(
            "Start again from the raw exports, apply exactly the changes of cleaning_log.csv (automatic "
            "rules and decisions) and the logged removals, and compare with survey.parquet cell by "
            "cell. Lists every change without a log row and every log row not in the data; exits 0 "
            "only when there is none."
        ),
    )
    p.add_argument("raw", nargs="*", type=Path, help="raw export files (default: the demo export)")
    p.add_argument("--processed", type=Path, default=config.PROCESSED_DIR, help="default data/processed/")
    p.add_argument("--decisions", type=Path, default=None,
                   help="decision files or their folder (checked; default data/decisions/ when it exists)")
    return parser


def _use_questionnaire(folder: Path | None) -> None:
    """Point every command at another questionnaire folder (before the study modules load)."""
    if folder is None:
        return
    import os

    folder = folder.resolve()
    if not (folder / "survey.csv").is_file():
        from analysis.errors import ConfigError

        raise ConfigError(f"folder '{folder}' given to --questionnaire has no survey.csv.")
    os.environ["SI_SURVEY_QUESTIONNAIRE"] = str(folder)
    config.QUESTIONNAIRE_DIR = folder
    config.QUESTIONNAIRE_BUILD_DIR = folder / "build"


def _checked_study():
    """The study of the questionnaire folder, checked before any work starts (raises StudyError)."""
    from analysis.report.kinds import all_kind_options
    from analysis.study._study import load_study
    from analysis.study._validate import check_study

    return check_study(load_study(config.QUESTIONNAIRE_DIR), kind_options=all_kind_options())


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "instrument":
        from analysis.study._instrument import build_instrument

        study = _checked_study()
        out = args.out if args.out is not None else config.QUESTIONNAIRE_BUILD_DIR
        written = build_instrument(out, questionnaire=study.questionnaire)
        for path in written.values():
            print(f"wrote {path}")
        return 0
    if args.command == "simulate":
        from analysis.simulate import simulate_export

        written = simulate_export(
            n=args.n, seed=args.seed, out_dir=args.out, fmt=args.format, clean_only=args.clean_only,
            questionnaire_dir=config.QUESTIONNAIRE_DIR,
        )
        for path in written.values():
            print(f"wrote {path}")
        return 0
    if args.command == "clean":
        if args.form is not None:
            from analysis.cleaning import clean_form

            if not args.raw:
                from analysis.errors import InputError

                raise InputError("--form needs the export files to clean", expected="si-survey clean EXPORT... --form FORM")
            if args.decisions is not None:
                from analysis.errors import InputError

                raise InputError("decisions apply to the study's own exports, not with --form",
                                 value=str(args.decisions), expected="si-survey clean without --form")
            result = clean_form(args.raw, args.form, args.out, private_dir=args.private, time_zone=args.time_zone)
            print(result.summary())
            return 0
        from analysis.cleaning import clean

        _checked_study()
        kw = {"private_dir": args.private} if args.private is not None else {}
        result = clean(args.raw or None, out_dir=args.out, time_zone=args.time_zone, decisions=args.decisions, **kw)
        print(result.summary())
        return 0
    if args.command == "tables":
        from analysis.report import render_reports

        _checked_study()
        written = render_reports(data_dir=args.data, out_dir=args.out, formats=args.formats, lang=args.lang)
        print(f"wrote {len(written)} files to {args.out}")
        return 0
    if args.command == "run":
        from analysis.pipeline import run

        study = _checked_study()
        result = run(
            study=study,
            raw=args.raw or None,
            processed_dir=args.processed,
            out_dir=args.out,
            formats=args.formats,
            lang=args.lang,
            force=args.force,
            decisions=args.decisions,
        )
        print(result.summary())
        return 0
    if args.command == "sample":
        from analysis.fieldwork import draw_sample

        result = draw_sample(args.frame, n=args.n, moe=args.moe, strata=args.strata, allocation=args.allocation,
                             sd=args.sd, min_per_stratum=args.min_per_stratum, reserve=args.reserve, seed=args.seed)
        written = result.write(args.out)
        print(f"sample of {result.n} organisations in {len(result.allocation)} strata "
              f"(expected margin of error {100 * result.overall_moe:.1f} points)")
        for path in written.values():
            print(f"wrote {path}")
        return 0
    if args.command == "monitor":
        from analysis.fieldwork import write_monitor

        path = write_monitor(args.raw, targets=args.targets, form=args.form, out_dir=args.out)
        print(f"wrote {path}")
        return 0
    if args.command == "review":
        from analysis.fieldwork import review

        decisions = args.decisions if args.decisions is not None and Path(args.decisions).exists() else None
        path = review(args.raw, args.out, form=args.form, decisions=decisions)
        print(f"wrote {path}")
        return 0
    if args.command == "verify":
        from analysis.cleaning import default_raw_files
        from analysis.fieldwork import verify

        if args.decisions is not None:  # the decisions must still be readable (file and row named otherwise)
            from analysis.cleaning._clean import decision_sources
            from analysis.fieldwork import read_decisions
            from analysis.study import codebook, load_questionnaire

            read_decisions(decision_sources(args.decisions), codebook(load_questionnaire()))
        result = verify(args.raw or default_raw_files(), args.processed)
        print(result.summary())
        if not result.ok:
            for frame in (result.unexplained, result.unapplied, result.rows):
                if len(frame):
                    print(frame.head(20).to_string(index=False))
            return 1
        return 0
    raise AssertionError(args.command)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``si-survey`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        _use_questionnaire(getattr(args, "questionnaire", None))
        return _dispatch(args)
    except SiSurveyError as exc:
        if args.debug:
            raise
        for line in str(exc).splitlines() or [""]:
            print(f"si-survey: error: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("si-survey: interrupted; previous outputs are left as they were.", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        if args.debug:
            raise
        print(f"si-survey: error: {exc} (run again with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
