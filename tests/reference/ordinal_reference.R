# Reference values for analysis.psychometrics._polychoric and analysis.cbsem._wlsmv (ordinal methods).
# Run from the repository root:  Rscript tests/reference/ordinal_reference.R
# Reads ../shared/data/bfi.csv, writes tests/reference/ordinal_reference.json.
suppressPackageStartupMessages({
  library(psych)
  library(lavaan)
  library(jsonlite)
})
bfi <- read.csv("../shared/data/bfi.csv")
out <- list(
  header = list(
    R = R.version.string,
    psych = as.character(packageVersion("psych")),
    lavaan = as.character(packageVersion("lavaan")),
    jsonlite = as.character(packageVersion("jsonlite")),
    script = "tests/reference/ordinal_reference.R",
    data = "../shared/data/bfi.csv"
  )
)

mat <- function(m) list(rownames = rownames(m), colnames = colnames(m),
                        values = unname(as.matrix(m)))

# --- psych::polychoric of N1-N5 (global thresholds, correct = 0.5, smooth = TRUE; pairwise data)
N <- bfi[, paste0("N", 1:5)]
pc <- polychoric(N)
out$polychoric_N <- list(rho = mat(pc$rho), tau = mat(pc$tau))
pc2 <- polychoric(N, global = FALSE)
out$polychoric_N_local <- list(rho = mat(pc2$rho), tau = mat(pc2$tau))
# tetrachoric: dichotomised N items (score > 3)
B <- as.data.frame(lapply(N, function(x) as.integer(x > 3)))
tc <- tetrachoric(B)
out$tetrachoric_N <- list(rho = mat(tc$rho), tau = as.list(tc$tau))

# --- lavaan WLSMV CFA, 2 factors, ordered, listwise
model <- "N =~ N1 + N2 + N3 + N4 + N5
          C =~ C1 + C2 + C3 + C4 + C5"
items <- c(paste0("N", 1:5), paste0("C", 1:5))
fit <- cfa(model, data = bfi, ordered = TRUE, estimator = "WLSMV")
fm <- fitMeasures(fit)
pe <- parameterEstimates(fit)
ss <- standardizedSolution(fit)
out$cfa_NC <- list(
  nobs = lavInspect(fit, "nobs"),
  fit = as.list(setNames(as.numeric(fm), names(fm))),
  params = pe[, c("lhs", "op", "rhs", "est", "se", "z", "pvalue")],
  std = ss[, c("lhs", "op", "rhs", "est.std", "se", "z", "pvalue")],
  sample_th = as.numeric(lavInspect(fit, "sampstat")$th),
  sample_cor = mat(lavInspect(fit, "sampstat")$cov),
  nacov_diag = as.numeric(diag(lavInspect(fit, "gamma"))),
  gamma = unname(as.matrix(lavInspect(fit, "gamma")))
)

# --- ordinal measurement invariance by gender
d2 <- bfi[, c(items, "gender")]
fits <- list(
  configural = cfa(model, data = d2, ordered = TRUE, group = "gender"),
  thresholds = cfa(model, data = d2, ordered = TRUE, group = "gender",
                   group.equal = "thresholds"),
  thresholds_loadings = cfa(model, data = d2, ordered = TRUE, group = "gender",
                            group.equal = c("thresholds", "loadings"))
)
inv <- list()
for (nm in names(fits)) {
  f <- fits[[nm]]
  fmi <- fitMeasures(f)
  inv[[nm]] <- list(
    fit = as.list(setNames(as.numeric(fmi), names(fmi))),
    partable = parTable(f)[, c("lhs", "op", "rhs", "group", "free", "label", "plabel", "est", "se")]
  )
}
lrt <- lavTestLRT(fits$configural, fits$thresholds, fits$thresholds_loadings)
inv$lrt <- data.frame(model = rownames(lrt), df = lrt$Df, chisq = lrt$Chisq,
                      chisq_diff = lrt[["Chisq diff"]], df_diff = lrt[["Df diff"]],
                      p_value = lrt[["Pr(>Chisq)"]])
inv$lrt_method <- attr(lrt, "heading")
out$invariance_gender <- inv

# --- binary items: WLSMV CFA of the dichotomised N items (tetrachoric path, 2 x 2 tables)
Bn <- as.data.frame(lapply(bfi[, paste0("N", 1:5)], function(x) as.integer(x > 3)))
fitb <- cfa("N =~ N1 + N2 + N3 + N4 + N5", data = Bn, ordered = TRUE)
fmb <- fitMeasures(fitb)
out$cfa_binary_N <- list(
  nobs = lavInspect(fitb, "nobs"),
  fit = as.list(setNames(as.numeric(fmb), names(fmb))),
  params = parameterEstimates(fitb)[, c("lhs", "op", "rhs", "est", "se")]
)

# --- cross-loading and residual covariance between latent responses
m2 <- "N =~ N1 + N2 + N3 + N4 + N5
       C =~ C1 + C2 + C3 + C4 + C5 + N4
       N1 ~~ N2"
fit2 <- cfa(m2, data = bfi, ordered = TRUE)
fm2 <- fitMeasures(fit2)
out$cfa_crossloading <- list(
  fit = as.list(setNames(as.numeric(fm2), names(fm2))),
  params = parameterEstimates(fit2)[, c("lhs", "op", "rhs", "est", "se")],
  std = standardizedSolution(fit2)[, c("lhs", "op", "rhs", "est.std", "se")]
)

# --- second-order factor (second-order loadings live in lavaan's beta matrix)
m3 <- "N =~ N1 + N2 + N3 + N4 + N5
       C =~ C1 + C2 + C3 + C4 + C5
       E =~ E1 + E2 + E3 + E4 + E5
       A =~ A1 + A2 + A3 + A4 + A5
       G =~ N + C + E + A"
fit3 <- cfa(m3, data = bfi, ordered = TRUE)
fm3 <- fitMeasures(fit3)
out$cfa_second_order <- list(
  fit = as.list(setNames(as.numeric(fm3), names(fm3))),
  params = parameterEstimates(fit3)[, c("lhs", "op", "rhs", "est", "se")],
  std = standardizedSolution(fit3)[, c("lhs", "op", "rhs", "est.std", "se")]
)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "tests/reference/ordinal_reference.json")
cat("wrote tests/reference/ordinal_reference.json\n")

