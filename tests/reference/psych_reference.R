# Reference values for analysis.psychometrics (_reliability, _adequacy, _factor, _parallel, _rotation).
#
# Run from the repository root:
#     Rscript tests/reference/psych_reference.R
# It reads ../shared/data/bfi.csv and ../shared/data/holzinger1939.csv and writes
# tests/reference/psych_reference.json (all numbers at full double precision).
# The software versions are printed and stored in the "header" of the JSON file.

suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(jsonlite)
})

header <- list(
  generated_by = "tests/reference/psych_reference.R",
  date = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"),
  R = R.version.string,
  psych = as.character(packageVersion("psych")),
  GPArotation = as.character(packageVersion("GPArotation")),
  jsonlite = as.character(packageVersion("jsonlite"))
)
cat("# R:", header$R, "\n# psych:", header$psych, "\n# GPArotation:", header$GPArotation, "\n")

bfi <- read.csv("../shared/data/bfi.csv")
items <- bfi[, 1:25]
hs <- read.csv("../shared/data/holzinger1939.csv")
hs_items <- hs[, paste0("x", 1:9)]

mat <- function(m) {
  m <- unclass(as.matrix(m))
  list(rows = rownames(m), cols = colnames(m), values = unname(m))
}

out <- list(header = header)

# ---------------------------------------------------------------- alpha ----
scales <- list(
  agree = c("-A1", "A2", "A3", "A4", "A5"),
  conscientious = c("C1", "C2", "C3", "-C4", "-C5"),
  extraversion = c("-E1", "-E2", "E3", "E4", "E5"),
  neuroticism = c("N1", "N2", "N3", "N4", "N5"),
  openness = c("O1", "-O2", "O3", "O4", "-O5")
)
out$alpha <- lapply(scales, function(k) {
  cols <- sub("-", "", k)
  rev <- cols[startsWith(k, "-")]
  a <- psych::alpha(items[, cols], keys = rev, check.keys = FALSE, warnings = FALSE)
  list(
    keys = k,
    total = as.list(a$total),
    feldt = list(lower = a$feldt$lower.ci[[1]], upper = a$feldt$upper.ci[[1]]),
    alpha_drop = mat(a$alpha.drop),
    item_stats = mat(a$item.stats)
  )
})

# ------------------------------------------------------- KMO, Bartlett ----
k <- KMO(items)
out$kmo <- list(overall = k$MSA, items = as.list(k$MSAi))
b <- cortest.bartlett(items)
out$bartlett <- list(statistic = b$chisq, df = b$df, p_value = b$p.value, n = nrow(items))

# ------------------------------------------------------------------ fa ----
fa_ref <- function(f, x, n_scores = 10) {
  list(
    loadings = mat(f$loadings),
    communality = unname(f$communality),
    communalities = unname(f$communalities),
    uniquenesses = unname(f$uniquenesses),
    phi = if (is.null(f$Phi)) NULL else mat(f$Phi),
    vaccounted = mat(f$Vaccounted),
    values = unname(f$values),
    e_values = unname(f$e.values),
    fit = list(
      objective = f$objective, statistic = f$STATISTIC, df = f$dof,
      p_value = f$PVAL, null_chisq = f$null.chisq, null_df = f$null.dof,
      tli = f$TLI, rmsea = unname(f$RMSEA[1]), rmsea_low = unname(f$RMSEA[2]),
      rmsea_high = unname(f$RMSEA[3]), bic = f$BIC, sabic = f$SABIC,
      rms = f$rms, crms = f$crms, chi_empirical = f$chi, e_p_value = f$EPVAL,
      harmonic_n = f$nh, fit = f$fit, fit_off = f$fit.off, n = f$n.obs
    ),
    weights = mat(f$weights),
    scores_head = if (is.null(f$scores)) NULL else mat(head(f$scores, n_scores))
  )
}
out$fa <- list(
  minres_oblimin = fa_ref(fa(items, 5, fm = "minres", rotate = "oblimin"), items),
  ml_promax = fa_ref(fa(items, 5, fm = "ml", rotate = "promax"), items),
  pa_varimax = fa_ref(fa(items, 5, fm = "pa", rotate = "varimax"), items),
  uls_quartimin = fa_ref(fa(items, 5, fm = "uls", rotate = "quartimin"), items),
  minres_geomin = fa_ref(fa(items, 5, fm = "minres", rotate = "geominQ"), items),
  minres_none = fa_ref(fa(items, 5, fm = "minres", rotate = "none"), items),
  hs_ml_oblimin = fa_ref(fa(hs_items, 3, fm = "ml", rotate = "oblimin"), hs_items),
  hs_minres_1 = fa_ref(fa(hs_items, 1, fm = "minres"), hs_items)
)
poly_fa <- fa(items, 5, fm = "minres", rotate = "oblimin", cor = "poly")
out$fa$poly_minres_oblimin <- fa_ref(poly_fa, items, n_scores = 0)
out$fa$poly_minres_oblimin$scores_head <- NULL

# --------------------------------------------------------------- omega ----
om <- omega(items, nfactors = 5, plot = FALSE)
out$omega <- list(
  omega_h = om$omega_h, omega_total = om$omega.tot, alpha = om$alpha,
  omega_lim = om$omega.lim, G6 = om$G6, ecv = unname(om$ECV),
  sl = mat(om$schmid$sl), group = mat(om$omega.group),
  phi = mat(om$schmid$phi), gloading = unname(as.vector(om$schmid$gloading))
)
omp <- omega(items, nfactors = 5, poly = TRUE, plot = FALSE)
out$omega_poly <- list(
  omega_h = omp$omega_h, omega_total = omp$omega.tot, alpha = omp$alpha,
  ecv = unname(omp$ECV), sl = mat(omp$schmid$sl)
)
om3 <- omega(hs_items, nfactors = 3, plot = FALSE)
out$omega_hs <- list(
  omega_h = om3$omega_h, omega_total = om3$omega.tot, alpha = om3$alpha,
  ecv = unname(om3$ECV), sl = mat(om3$schmid$sl), group = mat(om3$omega.group)
)

# ---------------------------------------------------- parallel analysis ----
# mc.cores = 1: psych's mclapply then runs in this process, so set.seed makes it repeatable
options(mc.cores = 1)
set.seed(20261127)
pa <- fa.parallel(items, n.iter = 20, plot = FALSE)
out$parallel <- list(
  n_iter = 20, nfact = pa$nfact, ncomp = pa$ncomp,
  fa_values = pa$fa.values, pc_values = pa$pc.values,
  fa_sim = pa$fa.sim, pc_sim = pa$pc.sim, fa_simr = pa$fa.simr, pc_simr = pa$pc.simr,
  values = unname(pa$values)
)

# observed one-factor reduced eigenvalues for the other factoring methods (fa.parallel's
# observed "fa" line: fa(r, 1, rotate = "none", fm = fm)$values)
r_items <- cor(items, use = "pairwise")
out$parallel_observed <- lapply(c(ml = "ml", pa = "pa", uls = "uls"), function(fm)
  fa(r_items, 1, rotate = "none", fm = fm, warnings = FALSE)$values)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE),
           "tests/reference/psych_reference.json")
cat("wrote tests/reference/psych_reference.json\n")
