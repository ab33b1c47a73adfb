# Reference values for analysis/cbsem/_model.py, analysis/cbsem/_cfa.py, analysis/cbsem/_invariance.py.
#
# Run from the repository root:
#     Rscript tests/reference/lavaan_reference.R
# Reads ../shared/data/holzinger1939.csv; writes
#     tests/reference/lavaan_reference.json      (all reference values, full precision)
#     tests/data/holzinger1939_missing.csv       (x1-x9 with cells deleted by a fixed rule, for FIML)
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

hs <- read.csv("../shared/data/holzinger1939.csv")
items <- paste0("x", 1:9)

# Deterministic deletion rule for the FIML case (1-based row i, item j):
# cell (i, j) is deleted when (7 i + 13 j) %% 11 == 0 or (3 i + 5 j) %% 17 == 0.
hs_miss <- hs
for (j in 1:9) {
  i <- seq_len(nrow(hs))
  drop <- ((7 * i + 13 * j) %% 11 == 0) | ((3 * i + 5 * j) %% 17 == 0)
  hs_miss[drop, items[j]] <- NA
}
write.csv(hs_miss[, c("id", "school", items)], "tests/data/holzinger1939_missing.csv",
          row.names = FALSE, na = "")

model <- "
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"

fit_names <- c("npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
               "baseline.pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
               "rmsea.pvalue", "srmr", "aic", "bic", "bic2", "logl", "unrestricted.logl",
               "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
               "baseline.chisq.scaled", "baseline.df.scaled", "baseline.chisq.scaling.factor",
               "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
               "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled",
               "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
               "srmr_bentler", "srmr_mplus")

reliab <- function(fit) {
  # Composite reliability (Raykov's rho from the standardised solution) and AVE, per factor/group.
  ss <- standardizedSolution(fit)
  if (!"group" %in% names(ss)) ss$group <- 1L
  out <- list()
  for (g in unique(ss$group)) {
    s <- ss[ss$group == g, ]
    for (f in unique(s$lhs[s$op == "=~"])) {
      l <- s$est.std[s$op == "=~" & s$lhs == f]
      ind <- s$rhs[s$op == "=~" & s$lhs == f]
      th <- s$est.std[s$op == "~~" & s$lhs %in% ind & s$lhs == s$rhs]
      out[[length(out) + 1]] <- data.frame(group = g, factor = f,
        composite_reliability = sum(l)^2 / (sum(l)^2 + sum(th)), ave = mean(l^2))
    }
  }
  do.call(rbind, out)
}

htmt_ref <- function(data, model) {
  # HTMT (Henseler, Ringle & Sarstedt 2015) by hand, from the absolute Pearson correlations
  # of the complete cases (semTools::htmt defaults: missing = "listwise", absolute = TRUE).
  pt <- lavaanify(model)
  lat <- unique(pt$lhs[pt$op == "=~"])
  ind <- lapply(lat, function(f) pt$rhs[pt$op == "=~" & pt$lhs == f])
  R <- abs(cor(na.omit(data[, unique(unlist(ind))])))
  k <- length(lat)
  H <- matrix(1, k, k, dimnames = list(lat, lat))
  mono <- function(v) { r <- R[v, v]; mean(r[lower.tri(r)]) }
  for (a in 1:k) for (b in 1:k) if (a != b) {
    H[a, b] <- mean(R[ind[[a]], ind[[b]]]) / sqrt(mono(ind[[a]]) * mono(ind[[b]]))
  }
  H
}

one <- function(fit) {
  fm <- fitMeasures(fit)
  keep <- intersect(fit_names, names(fm))
  list(
    fit = as.list(fm[keep]),
    params = parameterEstimates(fit, remove.nonfree = FALSE, remove.system.eq = TRUE),
    std = standardizedSolution(fit),
    converged = lavInspect(fit, "converged"),
    ntotal = lavInspect(fit, "ntotal"),
    reliability = reliab(fit)
  )
}

out <- list()
out$header <- list(
  R = R.version.string,
  lavaan = as.character(packageVersion("lavaan")),
  jsonlite = as.character(packageVersion("jsonlite")),
  date = format(Sys.time(), tz = "UTC", usetz = TRUE),
  data = "../shared/data/holzinger1939.csv",
  model = model,
  missing_rule = "cell (i, j) of x1-x9 deleted when (7 i + 13 j) %% 11 == 0 or (3 i + 5 j) %% 17 == 0"
)
cat("# lavaan reference values:", out$header$R, "; lavaan", out$header$lavaan, "\n")

out$ml <- one(cfa(model, data = hs))
out$ml_stdlv <- one(cfa(model, data = hs, std.lv = TRUE))
out$ml_meanstructure <- one(cfa(model, data = hs, meanstructure = TRUE))
out$mlr <- one(cfa(model, data = hs, estimator = "MLR"))
out$htmt <- htmt_ref(hs, model)

# Measurement invariance across school (ML and MLR)
for (est in c("ML", "MLR")) {
  conf <- cfa(model, data = hs, group = "school", estimator = est)
  metr <- cfa(model, data = hs, group = "school", estimator = est, group.equal = "loadings")
  scal <- cfa(model, data = hs, group = "school", estimator = est,
              group.equal = c("loadings", "intercepts"))
  key <- tolower(est)
  out[[paste0(key, "_configural")]] <- one(conf)
  out[[paste0(key, "_metric")]] <- one(metr)
  out[[paste0(key, "_scalar")]] <- one(scal)
  lrt <- lavTestLRT(conf, metr, scal)
  out[[paste0(key, "_lrt")]] <- data.frame(model = c("configural", "metric", "scalar"),
    df = lrt$Df, chisq = lrt$Chisq, delta_chisq = lrt[["Chisq diff"]],
    delta_df = lrt[["Df diff"]], p_value = lrt[["Pr(>Chisq)"]])
}
out$group_labels <- lavInspect(cfa(model, data = hs, group = "school"), "group.label")

# FIML (lavaan missing = "ml") on the masked data
out$fiml <- one(cfa(model, data = hs_miss, missing = "ml"))
out$fiml_mlr <- one(cfa(model, data = hs_miss, missing = "ml", estimator = "MLR"))
out$listwise_missing <- one(cfa(model, data = hs_miss))
out$fiml_mlr_scalar <- one(cfa(model, data = hs_miss, missing = "ml", estimator = "MLR",
                               group = "school", group.equal = c("loadings", "intercepts")))

# Structural model with latent regressions and residual covariances (lavaan's classic example)
pd_model <- "
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
"
pol <- read.csv("../shared/data/political_democracy.csv")
out$pd_model <- pd_model
out$sem_pd <- one(sem(pd_model, data = pol))
out$sem_pd_mlr <- one(sem(pd_model, data = pol, estimator = "MLR"))

# Metric invariance with std.lv = TRUE (latent variances free in group 2)
out$ml_metric_stdlv <- one(cfa(model, data = hs, group = "school", group.equal = "loadings",
                               std.lv = TRUE))

# Partial scalar invariance (one loading and one intercept released) and strict invariance
out$ml_scalar_partial <- one(cfa(model, data = hs, group = "school",
                                 group.equal = c("loadings", "intercepts"),
                                 group.partial = c("visual =~ x2", "x3 ~ 1")))
out$ml_strict <- one(cfa(model, data = hs, group = "school",
                         group.equal = c("loadings", "intercepts", "residuals")))

# Second-order factor (loadings of factors on a factor)
model2 <- paste(model, "g =~ visual + textual + speed", sep = "\n")
out$model_second_order <- model2
out$ml_second_order <- one(cfa(model2, data = hs))
out$mlr_second_order_stdlv <- one(cfa(model2, data = hs, estimator = "MLR", std.lv = TRUE))

# Real missing values: Big Five (psych::bfi), five factors x five items, FIML with MLR
bfi <- read.csv("../shared/data/bfi.csv")
bfi_model <- "
agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
extra =~ E1 + E2 + E3 + E4 + E5
neuro =~ N1 + N2 + N3 + N4 + N5
open  =~ O1 + O2 + O3 + O4 + O5
"
out$bfi_model <- bfi_model
out$bfi_fiml_mlr <- one(cfa(bfi_model, data = bfi, missing = "ml", estimator = "MLR"))
out$bfi_listwise_mlr <- one(cfa(bfi_model, data = bfi, estimator = "MLR"))
out$bfi_htmt <- htmt_ref(bfi, bfi_model)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, dataframe = "rows", na = "null",
                  pretty = TRUE),
           "tests/reference/lavaan_reference.json")
cat("written tests/reference/lavaan_reference.json\n")
