# Reference values for analysis/regression/ (regress, compare_models, simple_slopes) and analysis/descriptives/_group_tests.py.
#
# Run from the repository root:   Rscript tests/reference/regression_reference.R
# Reads ../shared/data/{apiclus1,apistrat,bfi}.csv and writes
# tests/reference/regression_reference.csv, a long table
#   case, term, quantity, value
# with the software versions in '#' header lines. The test suite never calls R.

suppressPackageStartupMessages({
  library(MASS)
  library(sandwich)
  library(lmtest)
})

data_dir <- file.path("..", "shared", "data")
out_file <- file.path("tests", "reference", "regression_reference.csv")

apiclus1 <- read.csv(file.path(data_dir, "apiclus1.csv"))
apistrat <- read.csv(file.path(data_dir, "apistrat.csv"))
bfi <- read.csv(file.path(data_dir, "bfi.csv"))

rows <- list()
add <- function(case, term, quantity, value) {
  rows[[length(rows) + 1L]] <<- data.frame(case = case, term = term, quantity = quantity,
                                           value = as.numeric(value))
}
add_coefs <- function(case, ct) {
  # ct: coefficient matrix (estimate, se, statistic, p) as from coeftest / summary
  for (i in seq_len(nrow(ct))) {
    term <- rownames(ct)[i]
    term <- if (term == "(Intercept)") "Intercept" else term
    add(case, term, "estimate", ct[i, 1])
    add(case, term, "se", ct[i, 2])
    add(case, term, "statistic", ct[i, 3])
    if (ncol(ct) >= 4) add(case, term, "p_value", ct[i, 4])
  }
}
add_fit <- function(case, named) {
  for (nm in names(named)) add(case, "(fit)", nm, named[[nm]])
}

# ---------------------------------------------------------------- OLS on apiclus1
ols <- lm(api00 ~ ell + meals + mobility, data = apiclus1)
s <- summary(ols)
add_coefs("ols_classical", coef(s))
add_fit("ols_classical", list(n = nobs(ols), r2 = s$r.squared, adj_r2 = s$adj.r.squared,
                              aic = AIC(ols), bic = BIC(ols), llf = as.numeric(logLik(ols)),
                              df_resid = df.residual(ols)))
add_coefs("ols_hc3", coeftest(ols, vcov. = vcovHC(ols, type = "HC3")))
# vcovCL's default type for an lm is HC1: G/(G-1) * (n-1)/(n-k)
add_coefs("ols_cluster", coeftest(ols, vcov. = vcovCL(ols, cluster = ~dnum)))
# standardised coefficients b * sd(x) / sd(y)
mf <- model.frame(ols)
for (v in c("ell", "meals", "mobility")) {
  add("ols_classical", v, "std_estimate", coef(ols)[[v]] * sd(mf[[v]]) / sd(mf$api00))
}
# VIF 1/(1-R2_j) (car::vif for one-column terms)
for (v in c("ell", "meals", "mobility")) {
  others <- setdiff(c("ell", "meals", "mobility"), v)
  r2 <- summary(lm(reformulate(others, v), data = mf))$r.squared
  add("ols_classical", v, "vif", 1 / (1 - r2))
}
# nested comparison (F test) and a factor model
ols0 <- lm(api00 ~ ell, data = apiclus1)
av <- anova(ols0, ols)
add_fit("ols_compare", list(F = av$F[2], df_num = av$Df[2], df_den = av$Res.Df[2],
                            p_value = av$`Pr(>F)`[2],
                            delta_r2 = s$r.squared - summary(ols0)$r.squared))
ols_f <- lm(api00 ~ ell + meals + stype, data = apiclus1)
add_coefs("ols_factor", coef(summary(ols_f)))

# ---------------------------------------------------------------- logit on apistrat
apistrat$awards_yes <- as.integer(apistrat$awards == "Yes")
lg <- glm(awards_yes ~ ell + meals + mobility + stype, family = binomial, data = apistrat)
add_coefs("logit_classical", coef(summary(lg)))
lg0 <- glm(awards_yes ~ 1, family = binomial, data = apistrat)
add_fit("logit_classical", list(n = nobs(lg), aic = AIC(lg), bic = BIC(lg),
                                llf = as.numeric(logLik(lg)),
                                pseudo_r2 = 1 - as.numeric(logLik(lg)) / as.numeric(logLik(lg0)),
                                df_resid = df.residual(lg)))
# cluster-robust for a GLM: vcovCL's default type for glm is HC0 (only G/(G-1));
# CR1 with the full small-sample factor is type = "HC1"
add_coefs("logit_cluster_hc1", coeftest(lg, vcov. = vcovCL(lg, cluster = ~dnum, type = "HC1")))
add_coefs("logit_hc3", coeftest(lg, vcov. = vcovHC(lg, type = "HC3")))
lgs <- glm(awards_yes ~ ell + meals, family = binomial, data = apistrat)
lrt <- anova(lgs, lg, test = "LRT")
add_fit("logit_compare", list(chi2 = lrt$Deviance[2], df_num = lrt$Df[2],
                              p_value = lrt$`Pr(>Chi)`[2]))

# ---------------------------------------------------------------- proportional odds on bfi
bfi_cc <- na.omit(bfi[, c("A1", "gender", "age")])
bfi_cc$A1 <- factor(bfi_cc$A1, ordered = TRUE)
po <- polr(A1 ~ gender + age, data = bfi_cc, Hess = TRUE)
ct <- coef(summary(po))
add_coefs("ordinal_polr", ct)
add_fit("ordinal_polr", list(n = nobs(po), aic = AIC(po), llf = as.numeric(logLik(po))))
# the same model with a tight optimiser tolerance (to see polr's own convergence error)
po_tight <- polr(A1 ~ gender + age, data = bfi_cc, Hess = TRUE,
                 control = list(reltol = 1e-14, maxit = 1000))
add_coefs("ordinal_polr_tight", coef(summary(po_tight)))

# ---------------------------------------------------------------- counts on apistrat
ps <- glm(enroll ~ meals + ell + stype, family = poisson, data = apistrat)
add_coefs("poisson_classical", coef(summary(ps)))
add_fit("poisson_classical", list(n = nobs(ps), aic = AIC(ps), bic = BIC(ps),
                                  llf = as.numeric(logLik(ps))))
# summary.glm's SEs use the IRLS weights of the iteration before convergence: with R's default
# epsilon (1e-8) they lag the maximum by ~1e-5 relative (Poisson); a tight fit removes the lag
ps_tight <- update(ps, control = glm.control(epsilon = 1e-14, maxit = 100))
add_coefs("poisson_tight", coef(summary(ps_tight)))
lg_tight <- update(lg, control = glm.control(epsilon = 1e-14, maxit = 100))
add_coefs("logit_tight", coef(summary(lg_tight)))
nb <- glm.nb(enroll ~ meals + ell + stype, data = apistrat)
add_coefs("negbin_glmnb", coef(summary(nb)))
add_fit("negbin_glmnb", list(n = nobs(nb), aic = AIC(nb), llf = as.numeric(logLik(nb)),
                             theta = nb$theta, se_theta = nb$SE.theta))
nb_tight <- glm.nb(enroll ~ meals + ell + stype, data = apistrat,
                   control = glm.control(epsilon = 1e-11, maxit = 200))
add_coefs("negbin_glmnb_tight", coef(summary(nb_tight)))
add_fit("negbin_glmnb_tight", list(theta = nb_tight$theta))

# sandwich SEs of the count and ordinal models
add_coefs("poisson_hc3", coeftest(ps, vcov. = vcovHC(ps, type = "HC3")))
add_coefs("poisson_cluster_hc1", coeftest(ps, vcov. = vcovCL(ps, cluster = ~dnum, type = "HC1")))
add_coefs("negbin_hc3", coeftest(nb_tight, vcov. = vcovHC(nb_tight, type = "HC3")))
add_coefs("ordinal_cluster_hc1",
          coeftest(po_tight, vcov. = vcovCL(po_tight, cluster = bfi_cc$age, type = "HC1")))
# polr's Hessian comes from optim (finite differences with ndeps = 1e-3), about 1e-4 relative
# from the exact one for 'age'. A finer reference: the Hessian by central differences
# (optimHess, ndeps = 1e-6) of the analytic gradient of the cumulative-logit log-likelihood,
# written here in R, at polr's (tight) estimates.
X <- model.matrix(~ gender + age, bfi_cc)[, -1]
yy <- as.integer(bfi_cc$A1)
J <- nlevels(bfi_cc$A1)
negll_grad <- function(par) {
  b <- par[1:ncol(X)]; z <- c(-Inf, par[-(1:ncol(X))], Inf)
  eta <- drop(X %*% b)
  hi <- z[yy + 1] - eta; lo <- z[yy] - eta
  p <- plogis(hi) - plogis(lo)
  dhi <- ifelse(is.finite(hi), dlogis(hi), 0); dlo <- ifelse(is.finite(lo), dlogis(lo), 0)
  gb <- -colSums(X * (dhi - dlo) / p)
  gz <- numeric(J - 1)
  for (j in 1:(J - 1)) gz[j] <- sum(dhi[yy == j] / p[yy == j]) - sum(dlo[yy == j + 1] / p[yy == j + 1])
  -c(gb, gz)
}
negll <- function(par) {
  b <- par[1:ncol(X)]; z <- c(-Inf, par[-(1:ncol(X))], Inf)
  eta <- drop(X %*% b)
  -sum(log(plogis(z[yy + 1] - eta) - plogis(z[yy] - eta)))
}
par <- c(coef(po_tight), po_tight$zeta)
H <- optimHess(par, negll, negll_grad, control = list(ndeps = rep(1e-6, length(par))))
V <- solve(H)
add_coefs("ordinal_finehess", cbind(par, sqrt(diag(V)), par / sqrt(diag(V))))
B <- V * nrow(X)
Vcl <- sandwich(po_tight, bread. = B, meat. = meatCL(po_tight, cluster = bfi_cc$age, type = "HC1"))
add_coefs("ordinal_finehess_cluster_hc1", cbind(par, sqrt(diag(Vcl)), par / sqrt(diag(Vcl))))

# ---------------------------------------------------------------- group comparisons
tt <- t.test(api00 ~ sch.wide, data = apistrat)  # Welch by default
add_fit("welch_t", list(statistic = tt$statistic, df = tt$parameter, p_value = tt$p.value,
                        ci_low = tt$conf.int[1], ci_high = tt$conf.int[2]))
tt_eq <- t.test(api00 ~ sch.wide, data = apistrat, var.equal = TRUE)
add_fit("student_t", list(statistic = tt_eq$statistic, df = tt_eq$parameter,
                          p_value = tt_eq$p.value))
wt <- suppressWarnings(wilcox.test(api00 ~ sch.wide, data = apistrat, exact = FALSE,
                                   correct = TRUE))
add_fit("mann_whitney", list(statistic = wt$statistic, p_value = wt$p.value))
ow <- oneway.test(api00 ~ stype, data = apistrat)  # Welch ANOVA
add_fit("welch_anova", list(statistic = ow$statistic, df_num = ow$parameter[1],
                            df_den = ow$parameter[2], p_value = ow$p.value))
ow_eq <- oneway.test(api00 ~ stype, data = apistrat, var.equal = TRUE)
add_fit("anova", list(statistic = ow_eq$statistic, df_num = ow_eq$parameter[1],
                      df_den = ow_eq$parameter[2], p_value = ow_eq$p.value))
kw <- kruskal.test(api00 ~ stype, data = apistrat)
add_fit("kruskal", list(statistic = kw$statistic, df = kw$parameter, p_value = kw$p.value))
tab <- table(apistrat$stype, apistrat$awards)
cs <- chisq.test(tab)
add_fit("chisq_stype_awards", list(statistic = cs$statistic, df = cs$parameter,
                                   p_value = cs$p.value,
                                   cramers_v = sqrt(cs$statistic / (sum(tab) * (min(dim(tab)) - 1)))))
tab2 <- table(apistrat$sch.wide, apistrat$awards)
cs2 <- chisq.test(tab2)  # 2x2: Yates continuity correction by default
add_fit("chisq_2x2_yates", list(statistic = cs2$statistic, df = cs2$parameter,
                                p_value = cs2$p.value))
cs2n <- chisq.test(tab2, correct = FALSE)
add_fit("chisq_2x2", list(statistic = cs2n$statistic, p_value = cs2n$p.value))
ft <- fisher.test(tab2)
add_fit("fisher_2x2", list(p_value = ft$p.value, odds_ratio = ft$estimate,
                           ci_low = ft$conf.int[1], ci_high = ft$conf.int[2]))

tab3 <- table(apistrat$yr.rnd, apistrat$awards)
ft3 <- fisher.test(tab3)
add_fit("fisher_yrrnd_awards", list(p_value = ft3$p.value, odds_ratio = ft3$estimate))

# effect sizes, computed here from their definitions (effectsize is not in Debian):
# Cohen's d with the CI of the non-centrality of Student's t (uniroot on pt(ncp = )),
# Hedges' g with the exact gamma correction, rank-biserial from W, eta-squared with the CI
# of the non-centrality of F (Steiger 2004), Cramer's V with the CI of the chi-square ncp.
x <- apistrat$api00[apistrat$sch.wide == "No"]; y <- apistrat$api00[apistrat$sch.wide == "Yes"]
n1 <- length(x); n2 <- length(y); dfp <- n1 + n2 - 2
sp <- sqrt(((n1 - 1) * var(x) + (n2 - 1) * var(y)) / dfp)
d <- (mean(x) - mean(y)) / sp
tobs <- tt_eq$statistic[[1]]
ncp_lo <- uniroot(function(ncp) pt(tobs, dfp, ncp) - 0.975, tobs + c(-5, 5), tol = 1e-12)$root
ncp_hi <- uniroot(function(ncp) pt(tobs, dfp, ncp) - 0.025, tobs + c(-5, 5), tol = 1e-12)$root
J <- exp(lgamma(dfp / 2) - log(sqrt(dfp / 2)) - lgamma((dfp - 1) / 2))
rb <- 2 * wt$statistic[[1]] / (n1 * n2) - 1
se_z <- sqrt((n1 + n2 + 1) / (3 * n1 * n2))
add_fit("effects_2groups", list(
  cohens_d = d, d_ci_low = ncp_lo * sqrt(1 / n1 + 1 / n2), d_ci_high = ncp_hi * sqrt(1 / n1 + 1 / n2),
  hedges_g = J * d, rank_biserial = rb,
  rb_ci_low = tanh(atanh(rb) - qnorm(0.975) * se_z), rb_ci_high = tanh(atanh(rb) + qnorm(0.975) * se_z)))
av1 <- anova(lm(api00 ~ stype, data = apistrat))
ssb <- av1$`Sum Sq`[1]; ssw <- av1$`Sum Sq`[2]; N <- nrow(apistrat)
fobs <- av1$`F value`[1]; df1 <- av1$Df[1]; df2 <- av1$Df[2]
lam_hi <- uniroot(function(l) pf(fobs, df1, df2, ncp = l) - 0.025, c(0, 200), tol = 1e-12)$root
lam_lo <- if (pf(fobs, df1, df2) < 0.975) 0 else
  uniroot(function(l) pf(fobs, df1, df2, ncp = l) - 0.975, c(0, 200), tol = 1e-12)$root
add_fit("effects_kgroups", list(
  eta_squared = ssb / (ssb + ssw), eta_ci_low = lam_lo / (lam_lo + N),
  eta_ci_high = lam_hi / (lam_hi + N),
  epsilon_squared = (ssb - df1 * ssw / df2) / (ssb + ssw),
  rank_epsilon_squared = kw$statistic[[1]] / ((N^2 - 1) / (N + 1))))
x2 <- cs$statistic[[1]]; dfc <- cs$parameter[[1]]; kmin <- min(dim(tab)) - 1
l_lo <- uniroot(function(l) pchisq(x2, dfc, ncp = l) - 0.975, c(0, 200), tol = 1e-12)$root
l_hi <- uniroot(function(l) pchisq(x2, dfc, ncp = l) - 0.025, c(0, 200), tol = 1e-12)$root
add_fit("cramers_v_ci", list(ci_low = sqrt(l_lo / (sum(tab) * kmin)),
                             ci_high = sqrt(l_hi / (sum(tab) * kmin))))

# ---------------------------------------------------------------- descriptives
a <- apistrat$api00; w <- apistrat$pw
add_fit("describe_api00", list(n = length(a), mean = mean(a), sd = sd(a), median = median(a),
                               q1 = quantile(a, 0.25)[[1]], q3 = quantile(a, 0.75)[[1]],
                               min = min(a), max = max(a)))
# frequency-style weights: weighted mean, SD with sum(w) - 1, inverse weighted ECDF quantiles
wm <- weighted.mean(a, w)
wq <- function(p) { o <- order(a); cw <- cumsum(w[o]); a[o][which(cw >= p * sum(w))[1]] }
add_fit("describe_api00_weighted", list(mean = wm, sd = sqrt(sum(w * (a - wm)^2) / (sum(w) - 1)),
                                        median = wq(0.5), q1 = wq(0.25), q3 = wq(0.75)))
suppressPackageStartupMessages(library(survey))
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
sq <- coef(svyquantile(~api00, dstrat, c(0.25, 0.5, 0.75), qrule = "math"))
add_fit("describe_api00_svy", list(mean = coef(svymean(~api00, dstrat))[[1]],
                                   q1 = sq[[1]], median = sq[[2]], q3 = sq[[3]]))
st <- prop.table(table(apistrat$stype)) * 100
sw <- prop.table(xtabs(pw ~ stype, apistrat)) * 100
for (lv in names(st)) add("describe_stype", lv, "percent", st[[lv]])
for (lv in names(sw)) add("describe_stype_weighted", lv, "percent", sw[[lv]])

# ---------------------------------------------------------------- write
res <- do.call(rbind, rows)
header <- c(
  "# Reference values for tests/test_regression.py, test_group_tests.py and test_descriptives.py",
  paste0("# ", R.version.string),
  paste0("# MASS ", packageVersion("MASS"), "; sandwich ", packageVersion("sandwich"),
         "; lmtest ", packageVersion("lmtest"), "; survey ", packageVersion("survey")),
  paste0("# generated by tests/reference/regression_reference.R on ", format(Sys.Date()))
)
writeLines(header, out_file)
suppressWarnings(write.table(format(res, digits = 17), out_file, append = TRUE, sep = ",",
                             row.names = FALSE, col.names = TRUE, quote = TRUE))
cat("wrote", nrow(res), "values to", out_file, "\n")
