"""Fixed texts and labels of the report (to be moved to questionnaire/)."""

TEXTS = {
    "fr": {
        "total": "Ensemble",
        "association": "Associations",
        "cooperative": "Coopératives",
        "other": "Autres formes",
        "variable": "Variable",
        "category": "Modalité",
        "item": "Item",
        "n": "n",
        "percent": "%",
        "mean": "Moyenne",
        "sd": "Écart-type",
        "median": "Médiane",
        "M": "M",
        "SD": "ÉT",
        "Md": "Méd.",
        "p_value": "p",
        "test": "Test",
        "source": "enquête sur l'innovation sociale au Maroc (si-survey), calculs de l'auteur.",
        "source_demo": "données simulées de démonstration (si-survey), calculs de l'auteur.",
        "weighted": "pondéré",
        "unweighted": "non pondéré",
        "construct": "Construit",
        "dimension": "Dimension",
        "factor": "Facteur",
        "loading": "Saturation",
        "communality": "h²",
        "fit": "Indice",
        "value": "Valeur",
        "serious": "Grave ou très grave (%)",
        "problem": "Problème",
        "group": "Groupe",
        "model": "Modèle",
        "effect": "Taille d'effet",
        "ci95": "IC 95 %",
        "low": "inf.",
        "high": "sup.",
        "legal_form": "Forme juridique",
        "sector": "Secteur",
        "region": "Région",
        "labels_note": "",
    },
    "en": {
        "total": "All",
        "association": "Associations",
        "cooperative": "Cooperatives",
        "other": "Other forms",
        "variable": "Variable",
        "category": "Category",
        "item": "Item",
        "n": "n",
        "percent": "%",
        "mean": "Mean",
        "sd": "SD",
        "median": "Median",
        "M": "M",
        "SD": "SD",
        "Md": "Mdn",
        "p_value": "p",
        "test": "Test",
        "source": "survey of social innovation in Morocco (si-survey), author's calculations.",
        "source_demo": "simulated demonstration data (si-survey), author's calculations.",
        "weighted": "weighted",
        "unweighted": "unweighted",
        "construct": "Construct",
        "dimension": "Dimension",
        "factor": "Factor",
        "loading": "Loading",
        "communality": "h²",
        "fit": "Index",
        "value": "Value",
        "serious": "Serious or very serious (%)",
        "problem": "Problem",
        "group": "Group",
        "model": "Model",
        "effect": "Effect size",
        "ci95": "95% CI",
        "low": "low",
        "high": "high",
        "legal_form": "Legal form",
        "sector": "Sector",
        "region": "Region",
        "labels_note": "Item, question and category labels are those of the French questionnaire.",
    },
}


#: Labels of the variables derived by :func:`analysis.study._dataset.prepare_analysis_data`.
DERIVED_LABELS = {
    "log_members": {"fr": "log(membres + 1)", "en": "log(members + 1)"},
    "org_age": {"fr": "Âge de l'organisation (années)", "en": "Age of the organisation (years)"},
    "funding_diversity": {"fr": "Diversification des ressources (1 − HHI)", "en": "Resource diversification (1 − HHI)"},
    "funding_hhi": {"fr": "Concentration des ressources (HHI)", "en": "Resource concentration (HHI)"},
    "funding_market_share": {"fr": "Part des recettes marchandes", "en": "Share of market income"},
    "funding_n_sources": {"fr": "Nombre de sources de financement", "en": "Number of funding sources"},
    "support_n_types": {"fr": "Nombre de types d'appui reçus", "en": "Number of types of support"},
    "support_used": {"fr": "Recours à une structure d'appui", "en": "Use of a support structure"},
    "legal_form_group": {"fr": "Forme juridique (groupe)", "en": "Legal form (group)"},
    "beneficiaries_y3": {"fr": "Bénéficiaires atteints (dernière année)", "en": "Beneficiaries reached (last year)"},
    "si_self_identified": {"fr": "Se dit socialement innovante", "en": "Self-identified as socially innovative"},
    "Intercept": {"fr": "Constante", "en": "Intercept"},
}

#: English labels of the constructs and their dimensions (the questionnaire has French and Arabic only).
CONSTRUCT_LABELS_EN = {
    "si_presence": "Social innovation presence",
    "si_presence__novelty": "Novelty (new here, or reinvented)",
    "si_presence__social_finality": "Social purpose (unmet needs)",
    "si_presence__participation": "Participation and empowerment of beneficiaries",
    "si_presence__governance": "Governance and collaboration",
    "si_presence__territory": "Territorial anchoring",
    "si_presence__diffusion": "Diffusion and institutional change",
    "internal_capacity": "Internal capacity",
    "internal_capacity__human_resources": "Human resources",
    "internal_capacity__financial": "Financial capacity",
    "internal_capacity__management": "Management and digital tools",
    "internal_capacity__communication": "Communication",
    "external_barriers": "External barriers",
    "external_barriers__financial": "Financial barriers",
    "external_barriers__regulatory": "Regulatory and fiscal barriers",
    "external_barriers__sociocultural": "Socio-cultural barriers (awareness, stigma, culture)",
    "external_barriers__public_support": "Insufficient public support",
    "perceived_impact": "Perceived social impact",
    "perceived_impact__domains": "Impact by domain",
    "perceived_impact__community_change": "Change in behaviours and in the community",
    "hybridisation": "Resource hybridisation (formative index)",
}

#: Labels of the problem groups of Annexe 2 in English.
PROBLEM_GROUPS_EN = {
    "resources": "Financial and human resources",
    "institutional": "Institutional framework and public authorities",
    "communication": "Communication",
    "society": "Society and culture",
}

#: Steps of the respondent flow (``flow.csv``), in English.
FLOW_STEPS_EN = {
    "received": "Submissions received",
    "duplicate": "Duplicates (same submission or same organisation)",
    "test": "Test or pilot interviews",
    "speeder": "Interviews too fast",
    "straightliner": "Identical answers across grids (straightlining)",
    "ineligible": "Ineligible organisations",
    "incomplete": "Incomplete interviews or refusals",
    "analysed": "Organisations analysed",
}

#: Dependent variables of the models, short labels for the column spanners.
DV_SHORT = {
    "score_perceived_impact": {"fr": "Impact perçu", "en": "Impact"},
    "beneficiaries_y3": {"fr": "Bénéficiaires", "en": "Beneficiaries"},
    "score_si_presence": {"fr": "Présence IS", "en": "SI presence"},
    "si_self_identified": {"fr": "Se dit innov.", "en": "Self-ident."},
}

#: Dependent variables of the models, full labels for the notes.
DV_LONG = {
    "score_perceived_impact": {"fr": "impact social perçu (score 1-5)", "en": "perceived social impact (score 1-5)"},
    "beneficiaries_y3": {"fr": "bénéficiaires atteints la dernière année", "en": "beneficiaries reached last year"},
    "score_si_presence": {"fr": "présence de l'innovation sociale (score 1-5)", "en": "social innovation presence (score 1-5)"},
    "si_self_identified": {"fr": "se dit socialement innovante", "en": "self-identified as socially innovative"},
}

MODEL_KINDS = {
    "ols": {"fr": "MCO", "en": "OLS"},
    "logit": {"fr": "Logit", "en": "Logit"},
    "ordinal": {"fr": "Logit ordonné", "en": "Ordered logit"},
    "poisson": {"fr": "Poisson", "en": "Poisson"},
    "negbin": {"fr": "Bin. nég.", "en": "Neg. bin."},
}

SE_KINDS = {
    "hc3": {"fr": "erreurs-types robustes HC3", "en": "HC3 robust standard errors"},
    "hc1": {"fr": "erreurs-types robustes HC1", "en": "HC1 robust standard errors"},
    "classical": {"fr": "erreurs-types classiques", "en": "classical standard errors"},
    "cluster": {"fr": "erreurs-types par grappes", "en": "cluster-robust standard errors"},
}
