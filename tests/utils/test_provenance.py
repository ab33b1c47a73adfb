"""Tests of analysis.utils.provenance: digests of file sets, the code and the questionnaire."""

from __future__ import annotations

from analysis import pipeline
from analysis.utils.provenance import code_fingerprint, hash_files, questionnaire_fingerprint


def test_hash_files_depends_on_names_and_contents_not_order(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("1")
    b.write_text("2")
    digest = hash_files([a, b])
    assert digest == hash_files([b, a]) and len(digest) == 64
    b.write_text("3")
    assert hash_files([a, b]) != digest
    (tmp_path / "sub").mkdir()
    c = tmp_path / "sub" / "a.txt"
    c.write_text("1")
    assert hash_files([c], tmp_path) != hash_files([a], tmp_path)  # relative names count


def test_fingerprints_are_stable_and_the_pipeline_uses_them():
    assert code_fingerprint() == code_fingerprint()
    assert len(questionnaire_fingerprint()) == 64
    assert pipeline.code_fingerprint is code_fingerprint
