# Reference values for pebs.stats.group_sequential and pebs.stats.sequential_rates from rpact.
#
# Run from this directory:  Rscript generate.R
# Writes designs.csv, design_values.csv, rates.csv, rates_values.csv, interim.csv,
# interim_values.csv, mvn.csv and mvn_values.csv. Every number is written with 17 significant
# digits. Value files are long: one row per (case, quantity, look); look 0 marks a scalar.
# rpact's own default tolerance (1e-8) is kept, as a user of rpact would get it.

suppressPackageStartupMessages({
    library(rpact)
    library(mvtnorm)
})

num <- function(x) sprintf("%.17g", x)
joined <- function(x) paste(num(x), collapse = ";")

values <- new.env()
values$rows <- list()
add <- function(table, case, quantity, x, looks = seq_along(x)) {
    values$rows[[table]] <- c(values$rows[[table]], list(data.frame(
        case = case, quantity = quantity, look = looks, value = num(as.vector(x))
    )))
}
write_values <- function(table, file) {
    write.csv(do.call(rbind, values$rows[[table]]), file, row.names = FALSE, quote = FALSE)
}

# Probability of first crossing bounds[k] at look k when E Z_k = drift sqrt(t_k) and
# cor(Z_j, Z_k) = sqrt(t_j / t_k), from mvtnorm's Miwa algorithm (deterministic; with 4097 steps
# it agrees with itself at 2049 steps to about 1e-12 relative up to ten looks). Independent of
# rpact's Newton-Cotes grid.
first_crossings <- function(rates, bounds, drift = 0) {
    correlation <- outer(rates, rates, function(a, b) sqrt(pmin(a, b) / pmax(a, b)))
    mean <- drift * sqrt(rates)
    below <- c(1, sapply(seq_along(rates), function(k) {
        pmvnorm(
            upper = bounds[1:k], mean = mean[1:k],
            sigma = correlation[1:k, 1:k, drop = FALSE], algorithm = Miwa(steps = 4097)
        )[1]
    }))
    below[-length(below)] - below[-1]
}

# ---------------------------------------------------------------------------------------------
# Designs: 4 types x kMax 2..5 x alpha {0.025, 0.05} x {equal, unequal} information rates,
# plus one look, ten looks and closely spaced looks.
unequal <- list(
    "2" = c(0.4, 1), "3" = c(0.25, 0.6, 1), "4" = c(0.2, 0.45, 0.75, 1),
    "5" = c(0.15, 0.3, 0.5, 0.8, 1)
)
design_cases <- list()
design_key <- function(type, kMax, alpha, spacing) {
    sprintf("%s K%d %s %s", type, kMax, alpha, spacing)
}
add_design <- function(type, alpha, beta, rates, spacing) {
    key <- design_key(type, length(rates), alpha, spacing)
    design_cases[[key]] <<- list(type = type, alpha = alpha, beta = beta, rates = rates)
}
for (type in c("asOF", "asP", "OF", "P")) {
    for (kMax in 2:5) {
        for (alpha in c(0.025, 0.05)) {
            add_design(type, alpha, 0.2, (1:kMax) / kMax, "equal")
            add_design(type, alpha, 0.1, unequal[[as.character(kMax)]], "unequal")
        }
    }
    add_design(type, 0.025, 0.2, 1, "equal")
    add_design(type, 0.025, 0.2, (1:10) / 10, "equal")
    add_design(type, 0.025, 0.15, c(0.9, 0.95, 1), "close")
}

make_design <- function(spec) {
    if (length(spec$rates) == 1) {
        return(getDesignGroupSequential(kMax = 1, alpha = spec$alpha, beta = spec$beta))
    }
    getDesignGroupSequential(
        typeOfDesign = spec$type, kMax = length(spec$rates), alpha = spec$alpha,
        beta = spec$beta, informationRates = spec$rates
    )
}

design_table <- data.frame()
designs <- list()
case_of <- list()
for (i in seq_along(design_cases)) {
    spec <- design_cases[[i]]
    case <- sprintf("D%02d", i)
    case_of[[names(design_cases)[i]]] <- case
    design <- make_design(spec)
    designs[[case]] <- design
    characteristics <- getDesignCharacteristics(design)
    design_table <- rbind(design_table, data.frame(
        case = case, type = spec$type, kMax = length(spec$rates), alpha = num(spec$alpha),
        beta = num(spec$beta), informationRates = joined(spec$rates)
    ))
    add("design", case, "criticalValues", design$criticalValues)
    add("design", case, "alphaSpent", design$alphaSpent)
    add("design", case, "stageLevels", design$stageLevels)
    # What rpact's boundaries really spend (rpact's own alphaSpent comes from its grid).
    add("design", case, "alphaSpentMiwa", cumsum(first_crossings(spec$rates, design$criticalValues)))
    add("design", case, "shift", characteristics$shift, looks = 0L)
    add("design", case, "inflationFactor", characteristics$inflationFactor, looks = 0L)
    if (length(spec$rates) > 1) {
        add("design", case, "power", characteristics$power)
        add("design", case, "rejectionProbabilities", characteristics$rejectionProbabilities)
        add("design", case, "averageSampleNumber0", characteristics$averageSampleNumber0, looks = 0L)
        add("design", case, "averageSampleNumber01", characteristics$averageSampleNumber01, looks = 0L)
        add("design", case, "averageSampleNumber1", characteristics$averageSampleNumber1, looks = 0L)
    }
}
write.csv(design_table, "designs.csv", row.names = FALSE, quote = FALSE)
write_values("design", "design_values.csv")

# ---------------------------------------------------------------------------------------------
# Sample size and power for two rates (non-inferiority, harmful endpoint: directionUpper = FALSE
# for the power). MyPeBS-like: stage II+ incidence 0.0048 over 4 years, margins 1.25 / 0.0012.
rate_designs <- unlist(case_of[c(
    "asOF K3 0.025 equal", "asP K4 0.025 unequal", "OF K2 0.025 equal", "P K5 0.025 unequal",
    "asOF K5 0.05 unequal", "asOF K2 0.025 equal"
)])
scenarios <- list(
    list(pi1 = 0.0048, pi2 = 0.0048, riskRatio = TRUE, thetaH0 = 1.25, allocation = 1, n = 85000),
    list(pi1 = 0.0043, pi2 = 0.0048, riskRatio = TRUE, thetaH0 = 1.25, allocation = 1, n = 85000),
    list(pi1 = 0.0048, pi2 = 0.0048, riskRatio = FALSE, thetaH0 = 0.0012, allocation = 1, n = 85000),
    list(pi1 = 0.0045, pi2 = 0.0048, riskRatio = FALSE, thetaH0 = 0.0012, allocation = 2, n = 60000),
    list(pi1 = 0.05, pi2 = 0.05, riskRatio = TRUE, thetaH0 = 1.3, allocation = 0.5, n = 9000),
    list(pi1 = 0.8, pi2 = 0.8, riskRatio = FALSE, thetaH0 = 0.1, allocation = 1, n = 600)
)
rates_table <- data.frame()
for (design_case in rate_designs) {
    design <- designs[[design_case]]
    for (scenario in scenarios) {
        case <- sprintf("R%02d", nrow(rates_table) + 1)
        rates_table <- rbind(rates_table, data.frame(
            case = case, design = design_case, pi1 = num(scenario$pi1), pi2 = num(scenario$pi2),
            riskRatio = scenario$riskRatio, thetaH0 = num(scenario$thetaH0),
            allocationRatioPlanned = num(scenario$allocation),
            maxNumberOfSubjects = num(scenario$n)
        ))
        size <- getSampleSizeRates(
            design, groups = 2, pi1 = scenario$pi1, pi2 = scenario$pi2,
            thetaH0 = scenario$thetaH0, riskRatio = scenario$riskRatio,
            allocationRatioPlanned = scenario$allocation
        )
        add("rates", case, "nFixed", size$nFixed, looks = 0L)
        add("rates", case, "maxNumberOfSubjects", size$maxNumberOfSubjects, looks = 0L)
        add("rates", case, "numberOfSubjects", size$numberOfSubjects)
        add("rates", case, "numberOfSubjects1", size$numberOfSubjects1)
        add("rates", case, "numberOfSubjects2", size$numberOfSubjects2)
        add("rates", case, "expectedNumberOfSubjectsH0", size$expectedNumberOfSubjectsH0, looks = 0L)
        add("rates", case, "expectedNumberOfSubjectsH01", size$expectedNumberOfSubjectsH01, looks = 0L)
        add("rates", case, "expectedNumberOfSubjectsH1", size$expectedNumberOfSubjectsH1, looks = 0L)
        add("rates", case, "rejectPerStage", size$rejectPerStage)
        power <- getPowerRates(
            design, groups = 2, pi1 = scenario$pi1, pi2 = scenario$pi2,
            thetaH0 = scenario$thetaH0, riskRatio = scenario$riskRatio,
            allocationRatioPlanned = scenario$allocation,
            maxNumberOfSubjects = scenario$n, directionUpper = FALSE
        )
        add("rates", case, "powerOverallReject", power$overallReject, looks = 0L)
        add("rates", case, "powerRejectPerStage", power$rejectPerStage)
        add("rates", case, "powerExpectedNumberOfSubjects", power$expectedNumberOfSubjects, looks = 0L)
    }
}
write.csv(rates_table, "rates.csv", row.names = FALSE, quote = FALSE)
write_values("rates", "rates_values.csv")

# ---------------------------------------------------------------------------------------------
# Interim analyses of two rates on the difference scale (rpact 3.3.4 analyses rates only as a
# difference). Counts are stage-wise (women added since the previous look). The design is
# recomputed at the observed fractions (cumulative women / planned maximum; 1 at the last look).
asOF3 <- case_of[["asOF K3 0.025 equal"]]
asP4 <- case_of[["asP K4 0.025 unequal"]]
interim_cases <- list(
    list(design = asOF3, nMax = 130000, n1 = 30000, n2 = 30000, e1 = 150, e2 = 140),
    list(design = asOF3, nMax = 130000, n1 = c(30000, 28000), n2 = c(30000, 28000),
         e1 = c(150, 135), e2 = c(140, 128)),
    list(design = asOF3, nMax = 130000, n1 = c(30000, 28000), n2 = c(30000, 28000),
         e1 = c(150, 135), e2 = c(140, 128), nPlanned = 50000),
    list(design = asOF3, nMax = 130000, n1 = c(30000, 28000, 31000),
         n2 = c(30000, 28000, 31000), e1 = c(150, 135, 160), e2 = c(140, 128, 150)),
    list(design = asP4, nMax = 130000, n1 = 13000, n2 = 13000, e1 = 66, e2 = 60),
    list(design = asP4, nMax = 130000, n1 = c(13000, 16000), n2 = c(13000, 16000),
         e1 = c(66, 80), e2 = c(60, 71), nPlanned = c(40000, 30000)),
    list(design = case_of[["OF K3 0.025 equal"]], nMax = 130000, n1 = 22000, n2 = 22000,
         e1 = 100, e2 = 104),
    list(design = case_of[["P K2 0.025 equal"]], nMax = 130000, n1 = 31000, n2 = 31000,
         e1 = 150, e2 = 140),
    list(design = asOF3, nMax = 130000, n1 = 40000, n2 = 20000, e1 = 200, e2 = 96,
         allocation = 2),
    list(design = asOF3, nMax = 130000, n1 = c(30000, 30000), n2 = c(30000, 30000),
         e1 = c(140, 120), e2 = c(150, 150)),
    list(design = asOF3, nMax = 130000, n1 = 30000, n2 = 30000, e1 = 230, e2 = 110),
    list(design = asOF3, nMax = 130000, n1 = 30000, n2 = 30000, e1 = 260, e2 = 100),
    list(design = case_of[["asOF K5 0.05 unequal"]], nMax = 600, n1 = c(60, 50), n2 = c(60, 50),
         e1 = c(47, 41), e2 = c(49, 40), margin = 0.1, pi1H1 = 0.8, pi2H1 = 0.8)
)
interim_table <- data.frame()
for (spec in interim_cases) {
    case <- sprintf("I%02d", nrow(interim_table) + 1)
    planned <- designs[[spec$design]]
    margin <- if (is.null(spec$margin)) 0.0012 else spec$margin
    allocation <- if (is.null(spec$allocation)) 1 else spec$allocation
    pi1H1 <- if (is.null(spec$pi1H1)) 0.0048 else spec$pi1H1
    pi2H1 <- if (is.null(spec$pi2H1)) 0.0048 else spec$pi2H1
    stage <- length(spec$n1)
    kMax <- planned$kMax
    observed <- cumsum(spec$n1 + spec$n2) / spec$nMax
    if (stage == kMax) observed[kMax] <- 1
    rates <- c(observed, planned$informationRates[-(1:stage)])
    design <- getDesignGroupSequential(
        typeOfDesign = planned$typeOfDesign, kMax = kMax, alpha = planned$alpha,
        beta = planned$beta, informationRates = rates
    )
    nPlanned <- if (stage < kMax) spec$nMax * diff(rates[stage:kMax]) else numeric(0)
    if (!is.null(spec$nPlanned)) nPlanned <- spec$nPlanned
    interim_table <- rbind(interim_table, data.frame(
        case = case, design = spec$design, nMax = num(spec$nMax), n1 = joined(spec$n1),
        n2 = joined(spec$n2), events1 = joined(spec$e1), events2 = joined(spec$e2),
        thetaH0 = num(margin), allocationRatioPlanned = num(allocation),
        nPlanned = if (is.null(spec$nPlanned)) "" else joined(spec$nPlanned),
        pi1H1 = num(pi1H1), pi2H1 = num(pi2H1)
    ))
    data <- getDataset(n1 = spec$n1, n2 = spec$n2, events1 = spec$e1, events2 = spec$e2)
    results <- getStageResults(
        design, data, stage = stage, thetaH0 = margin, directionUpper = FALSE
    )
    add("interim", case, "informationRates", design$informationRates)
    add("interim", case, "criticalValues", design$criticalValues)
    add("interim", case, "overallTestStatistics", results$overallTestStatistics[1:stage])
    add("interim", case, "testStatistics", results$testStatistics[1:stage])
    actions <- getTestActions(stageResults = results)[1:stage]
    add("interim", case, "rejected", as.numeric(startsWith(actions, "reject")))
    if (stage < kMax) {
        crp <- getConditionalRejectionProbabilities(results)[stage]
        add("interim", case, "conditionalRejectionProbability", crp, looks = 0L)
        trend <- getConditionalPower(
            results, nPlanned = nPlanned, allocationRatioPlanned = allocation
        )
        h1 <- getConditionalPower(
            results, nPlanned = nPlanned, allocationRatioPlanned = allocation,
            pi1 = pi1H1, pi2 = pi2H1
        )
        later <- (stage + 1):kMax
        add("interim", case, "conditionalPowerTrend", trend$conditionalPower[later], later)
        add("interim", case, "conditionalPowerH1", h1$conditionalPower[later], later)
    }
}
write.csv(interim_table, "interim.csv", row.names = FALSE, quote = FALSE)
write_values("interim", "interim_values.csv")

# ---------------------------------------------------------------------------------------------
# The canonical joint distribution on its own (first_crossings above).
mvn_cases <- list(
    list(rates = c(0.5, 1), bounds = c(2.5, 2), drift = 0),
    list(rates = c(0.3, 1), bounds = c(3, 1.9), drift = 2.5),
    list(rates = c(0.2, 0.5, 1), bounds = c(4, 2.8, 2), drift = 0),
    list(rates = c(0.2, 0.5, 1), bounds = c(4, 2.8, 2), drift = 3),
    list(rates = c(0.9, 0.95, 1), bounds = c(2.2, 2.1, 2), drift = 1),
    list(rates = c(0.25, 0.5, 0.75, 1), bounds = c(2.4, 2.4, 2.4, 2.4), drift = 0),
    list(rates = c(0.1, 0.3, 0.6, 0.8, 1), bounds = c(5, 3.5, 2.6, 2.3, 2), drift = 2.8),
    list(rates = c(0.1, 0.2, 0.4, 0.6, 0.8, 1), bounds = c(3, 3, 2.5, 2.2, 2.1, 2), drift = -0.5),
    list(rates = (1:10) / 10, bounds = c(2.66, 2.62, 2.59, 2.56, 2.54, 2.52, 2.51, 2.49, 2.48, 2.47),
         drift = 0),
    list(rates = (1:10) / 10, bounds = c(6, 4.3, 3.5, 3, 2.7, 2.5, 2.3, 2.15, 2.05, 2), drift = 3),
    list(rates = c(0.9, 0.95, 1), bounds = c(2.09, 2.12, 2.09), drift = 0)
)
mvn_table <- data.frame()
for (spec in mvn_cases) {
    case <- sprintf("M%02d", nrow(mvn_table) + 1)
    mvn_table <- rbind(mvn_table, data.frame(
        case = case, informationRates = joined(spec$rates), bounds = joined(spec$bounds),
        drift = num(spec$drift)
    ))
    add("mvn", case, "crossing", first_crossings(spec$rates, spec$bounds, spec$drift))
}
write.csv(mvn_table, "mvn.csv", row.names = FALSE, quote = FALSE)
write_values("mvn", "mvn_values.csv")
