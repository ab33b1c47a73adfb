# Reference values for analysis/survey/ (SurveyDesign and its estimators, _weighting, _calibration).
#
# Run from the repository root:   Rscript tests/reference/survey_reference.R
# Reads ../shared/data/apistrat.csv and ../shared/data/apiclus1.csv (survey::apistrat, apiclus1)
# and writes tests/reference/survey_reference.json (full precision, digits = NA).
# R survey defaults everywhere (lonely.psu = "fail", confint df = Inf for svymean/svytotal,
# svyquantile qrule = "math", interval.type = "mean" (Woodruff), df = degf(design)),
# except where stated (rake convergence tolerance, glm convergence tolerance).
suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})
options(survey.lonely.psu = "fail")

apistrat <- read.csv("../shared/data/apistrat.csv")
apiclus1 <- read.csv("../shared/data/apiclus1.csv")
names(apistrat) <- make.names(names(apistrat))   # keeps sch.wide, api.stu as in survey::
names(apiclus1) <- make.names(names(apiclus1))

header <- list(
  R = R.version.string,
  survey = as.character(packageVersion("survey")),
  jsonlite = as.character(packageVersion("jsonlite")),
  generated = format(Sys.time(), tz = "UTC", usetz = TRUE),
  script = "tests/reference/survey_reference.R"
)

glmctl <- glm.control(epsilon = 1e-12, maxit = 100)

stat <- function(s, df = Inf) {
  ci <- confint(s, df = df)
  out <- list(names = names(coef(s)), estimate = unname(coef(s)), se = unname(SE(s)),
              ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]))
  d <- attr(s, "deff")
  if (!is.null(d)) out$deff <- unname(diag(as.matrix(d)))
  out
}

byres <- function(b, est_cols) {
  ci <- confint(b)
  list(groups = as.character(b[[1]]), estimate = unname(as.vector(coef(b))),
       se = unname(as.vector(SE(b))), ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]),
       deff = if (!is.null(b$DEff)) unname(b$DEff) else NULL)
}

glmres <- function(g) {
  s <- summary(g)
  ct <- coef(s)
  ci <- confint(g)
  list(terms = rownames(ct), estimate = unname(ct[, 1]), se = unname(ct[, 2]),
       statistic = unname(ct[, 3]), p_value = unname(ct[, 4]),
       ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]),
       df_resid = g$df.residual, deviance = g$deviance, aic = if (is.na(g$aic)) NULL else g$aic,
       vcov = unname(as.vector(vcov(g))))
}

quant <- function(q) {
  m <- q[[1]]
  list(quantiles = as.numeric(rownames(m)), estimate = unname(m[, 1]), ci_low = unname(m[, 2]),
       ci_high = unname(m[, 3]), se = unname(m[, 4]))
}

out <- list(header = header)

## ---------------------------------------------------------------- stratified: apistrat
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
out$strat_degf <- degf(dstrat)
out$strat_mean <- stat(svymean(~api00 + enroll, dstrat, deff = TRUE))
out$strat_total <- stat(svytotal(~api00 + enroll, dstrat, deff = TRUE))
out$strat_prop_awards <- stat(svymean(~awards, dstrat, deff = TRUE))
cp <- svyciprop(~I(awards == "Yes"), dstrat)            # default method = "logit", df = degf
out$strat_ciprop_awards <- list(estimate = as.numeric(coef(cp)), se = as.numeric(SE(cp)),
                                ci_low = as.numeric(attr(cp, "ci")[1]), ci_high = as.numeric(attr(cp, "ci")[2]))
r <- svyratio(~api.stu, ~enroll, dstrat, deff = TRUE)
out$strat_ratio <- list(estimate = unname(as.vector(coef(r))), se = unname(as.vector(SE(r))),
                        ci_low = unname(confint(r)[, 1]), ci_high = unname(confint(r)[, 2]),
                        deff = unname(as.vector(attr(r, "deff"))))
out$strat_quantile <- quant(svyquantile(~api00, dstrat, c(0.25, 0.5, 0.75)))
out$strat_by_awards_mean <- byres(svyby(~api00, ~awards, dstrat, svymean, deff = TRUE))
out$strat_by_awards_total <- byres(svyby(~enroll, ~awards, dstrat, svytotal, deff = TRUE))
out$strat_by_stype_mean <- byres(svyby(~api00, ~stype, dstrat, svymean, deff = TRUE))
bq <- svyby(~api00, ~awards, dstrat, svyquantile, quantiles = 0.5, ci = TRUE)
out$strat_by_awards_median <- list(groups = as.character(bq$awards), estimate = unname(bq$api00),
                                   se = unname(bq[["se.api00"]]))
out$strat_glm_gaussian <- glmres(svyglm(api00 ~ ell + meals + mobility, dstrat, control = glmctl))
out$strat_glm_binomial <- glmres(svyglm(I(sch.wide == "Yes") ~ ell + meals + mobility, dstrat,
                                        family = quasibinomial(), control = glmctl))
out$strat_glm_poisson <- glmres(svyglm(api.stu ~ ell + meals, dstrat, family = quasipoisson(),
                                       control = glmctl))

## contrast between domain means (svycontrast on svyby with covmat)
bcov <- svyby(~api00, ~awards, dstrat, svymean, covmat = TRUE)
out$strat_contrast_awards <- stat(svycontrast(bcov, c(-1, 1)))
bcov3 <- svyby(~api00, ~stype, dclus <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1,
               fpc = ~fpc), svymean, covmat = TRUE)
out$clus_contrast_stype <- stat(svycontrast(bcov3, list(EvsH = c(1, -1, 0), avg = c(1/3, 1/3, 1/3))))

## domain (subset) design: estimates keep the full design's PSUs and strata
dsub <- subset(dstrat, awards == "Yes")
out$sub_mean <- stat(svymean(~api00, dsub, deff = TRUE))
out$sub_degf <- degf(dsub)
out$sub_quantile <- quant(svyquantile(~api00, dsub, 0.5))
out$sub_glm_gaussian <- glmres(svyglm(api00 ~ ell + meals, dsub, control = glmctl))

## post-stratification on stype (population counts of schools by type)
pop_stype <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
dps <- postStratify(dstrat, ~stype, pop_stype)
out$ps_weights <- unname(weights(dps))
out$ps_mean <- stat(svymean(~api00 + enroll, dps, deff = TRUE))
out$ps_total <- stat(svytotal(~api00 + enroll, dps))
## post-stratification on a variable that is not the design stratum (awards)
pop_awards <- data.frame(awards = c("No", "Yes"), Freq = c(2300, 3894))
dps2 <- postStratify(dstrat, ~awards, pop_awards)
out$ps2_weights <- unname(weights(dps2))
out$ps2_mean <- stat(svymean(~api00 + enroll, dps2, deff = TRUE))
out$ps2_total <- stat(svytotal(~enroll, dps2))

## raking on stype and sch.wide
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1500, 4694))
drk <- rake(dstrat, list(~stype, ~sch.wide), list(pop_stype, pop_schwide),
            control = list(maxit = 100, epsilon = 1e-12))
out$rake_weights <- unname(weights(drk))
out$rake_mean <- stat(svymean(~api00 + enroll, drk))
out$rake_total <- stat(svytotal(~enroll, drk))
## the same with R's default control (maxit = 10, epsilon = 1): stops earlier
drk0 <- rake(dstrat, list(~stype, ~sch.wide), list(pop_stype, pop_schwide))
out$rake_default_weights <- unname(weights(drk0))
out$rake_default_mean <- stat(svymean(~api00, drk0))

## estimators on calibrated designs (variance with calibration residuals)
out$ps2_glm_gaussian <- glmres(svyglm(api00 ~ ell + meals + mobility, dps2, control = glmctl))
out$rake_glm_gaussian <- glmres(svyglm(api00 ~ ell + meals + mobility, drk, control = glmctl))
out$rake_by_awards_mean <- byres(svyby(~api00, ~awards, drk, svymean, deff = TRUE))
out$rake_quantile <- quant(svyquantile(~api00, drk, c(0.5)))
rr <- svyratio(~api.stu, ~enroll, drk)
out$rake_ratio <- list(estimate = unname(as.vector(coef(rr))), se = unname(as.vector(SE(rr))))
out$rake_prop_awards <- stat(svymean(~awards, drk, deff = TRUE))

## ---------------------------------------------------------------- one-stage cluster: apiclus1
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
out$clus_degf <- degf(dclus1)
out$clus_mean <- stat(svymean(~api00 + enroll, dclus1, deff = TRUE))
out$clus_total <- stat(svytotal(~enroll, dclus1, deff = TRUE))
out$clus_prop_stype <- stat(svymean(~stype, dclus1, deff = TRUE))
r1 <- svyratio(~api.stu, ~enroll, dclus1)
out$clus_ratio <- list(estimate = unname(as.vector(coef(r1))), se = unname(as.vector(SE(r1))))
out$clus_quantile <- quant(svyquantile(~api00, dclus1, c(0.5, 0.9)))
out$clus_by_stype_mean <- byres(svyby(~api00, ~stype, dclus1, svymean, deff = TRUE))
out$clus_glm_gaussian <- glmres(svyglm(api00 ~ ell + meals + mobility, dclus1, control = glmctl))
## without fpc (with-replacement first stage)
dclus1wr <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
out$clus_wr_mean <- stat(svymean(~api00, dclus1wr))

## lonely PSU handling: apiclus1 stratified by stype with cluster dnum gives strata with one PSU?
## (use a deliberately lonely stratum: the first 3 rows of apistrat as a stratum of one PSU)
lonely <- apistrat
lonely$st2 <- as.character(lonely$stype)
lonely$st2[1] <- "L"                            # stratum "L" with a single PSU
for (opt in c("remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(id = ~1, strata = ~st2, weights = ~pw, data = lonely)
  out[[paste0("lonely_", opt)]] <- stat(svymean(~api00, dl))
}
options(survey.lonely.psu = "fail")

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"),
           "tests/reference/survey_reference.json")
cat("wrote tests/reference/survey_reference.json\n")
