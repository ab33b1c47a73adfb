# Reference values for analysis.cbsem.sem (lavaan 0.6 sem()).
# Run from the repository root:  Rscript tests/reference/sem_reference.R
# Writes tests/reference/sem_reference.json. Data:
#   tests/data/political_democracy.csv   (lavaan::PoliticalDemocracy, copied from /work/shared/data)
#   tests/data/holzinger1939.csv          (lavaan::HolzingerSwineford1939)
#   tests/data/holzinger1939_missing.csv  (x1-x9 with cells deleted, see lavaan_reference.R)
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})

pd <- read.csv("tests/data/political_democracy.csv")
hs <- read.csv("tests/data/holzinger1939.csv")
hs_miss <- read.csv("tests/data/holzinger1939_missing.csv")
hs_miss <- merge(hs_miss, hs[, c("id", "sex", "ageyr")], by = "id", sort = FALSE)
hs_miss <- hs_miss[order(hs_miss$id), ]

dump_fit <- function(fit, boot = FALSE) {
  pe <- if (boot) parameterEstimates(fit, boot.ci.type = "perc") else parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  fm <- fitMeasures(fit)
  r2 <- inspect(fit, "r2")
  list(
    params = list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, label = pe$label, est = pe$est,
                  se = pe$se, z = pe$z, pvalue = pe$pvalue, ci_lower = pe$ci.lower,
                  ci_upper = pe$ci.upper, std_all = ss$est.std, std_se = ss$se),
    fit = as.list(fm),
    r2 = as.list(r2)
  )
}

out <- list()
pd_model <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ g1*ind60
  dem65 ~ g2*ind60 + g3*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  indirect := g1*g3
  total := g2 + g1*g3
"
out$pd_model <- pd_model
out$pd_ml <- dump_fit(sem(pd_model, data = pd))
out$pd_mlr <- dump_fit(sem(pd_model, data = pd, estimator = "MLR"))

hs_model <- "
  visual =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed =~ x7 + x8 + x9
  visual ~ sex + ageyr
  textual ~ sex + ageyr
  speed ~ sex + ageyr
"
out$hs_model <- hs_model
out$hs_ml <- dump_fit(sem(hs_model, data = hs))
out$hs_mlr <- dump_fit(sem(hs_model, data = hs, estimator = "MLR"))
out$hs_mlr_fiml <- dump_fit(sem(hs_model, data = hs_miss, estimator = "MLR", missing = "ml"))
out$hs_ml_fiml <- dump_fit(sem(hs_model, data = hs_miss, estimator = "ML", missing = "ml"))

med_model <- "
  y1 ~ a*x1
  y5 ~ b*y1 + cp*x1
  indirect := a*b
  total := cp + a*b
"
out$med_model <- med_model
out$med_ml <- dump_fit(sem(med_model, data = pd))
set.seed(20261205)
t0 <- Sys.time()
fb <- sem(med_model, data = pd, se = "bootstrap", bootstrap = 2000)
out$med_boot_seconds <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
out$med_boot <- dump_fit(fb, boot = TRUE)
bt <- lavInspect(fb, "boot")  # the draws (failed ones dropped): SE of the defined effect
out$med_boot_se_indirect <- sd(bt[, "a"] * bt[, "b"], na.rm = TRUE)
pb <- parameterEstimates(fb, boot.ci.type = "bca.simple")
out$med_boot_bca <- list(lhs = pb$lhs, op = pb$op, rhs = pb$rhs, ci_lower = pb$ci.lower,
                         ci_upper = pb$ci.upper)

# multiple groups: the PoliticalDemocracy-free HS model by school with equal loadings
out$hs_group <- dump_fit(sem(hs_model, data = hs, group = "school", group.equal = "loadings"))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null"),
           "tests/reference/sem_reference.json")
