"""Add the English columns to the questionnaire (``survey.csv``, ``choices.csv``).

One-off tool of the study (issue 15: "French labels by default, English available"). The
questionnaire is written in French and Arabic; the report in English needs the item
wordings and the answer labels in English. This script holds the translation of every
French text of the form (labels, hints, required and constraint messages, choice labels),
made by hand and reviewed, and writes it as new columns:

* ``survey.csv``: ``label::English (en)``, ``hint::English (en)``,
  ``required_message::English (en)``, ``constraint_message::English (en)`` (and
  ``label_short::English (en)`` when the file has a French ``label_short``), each placed
  after its Arabic column;
* ``choices.csv``: ``label::English (en)`` after ``label::العربية (ar)``.

The French and Arabic cells are left byte for byte as they are (the files are read and
written with the ``csv`` module, which round-trips them exactly). Running the script again
rewrites the English columns from the table below. A French text without a translation is
an error (nothing is written), so the table stays complete when the questionnaire changes.

Usage::

    python tools/add_english_labels.py [questionnaire_dir]
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

FR, AR, EN = "Français (fr)", "العربية (ar)", "English (en)"
KINDS = ("label", "label_short", "hint", "required_message", "constraint_message")

#: French text -> English (labels and notes of the survey sheet).
SURVEY = {
    # -- introduction, interview status, consent --------------------------------------
    "Merci d'accepter cet entretien. Cette enquête, réalisée dans le cadre d'une thèse de doctorat, porte sur "
    "l'innovation sociale dans les associations et coopératives au Maroc. Vos réponses sont confidentielles et ne "
    "seront utilisées qu'à des fins de recherche, sous forme agrégée.":
        "Thank you for agreeing to this interview. This survey, carried out as part of a doctoral thesis, concerns "
        "social innovation in associations and cooperatives in Morocco. Your answers are confidential and will be "
        "used for research purposes only, in aggregate form.",
    "Statut de l'entretien": "Interview status",
    "Mode d'entretien": "Interview mode",
    "Le répondant accepte-t-il de participer à l'enquête ?": "Does the respondent agree to take part in the survey?",
    "Le répondant n'a pas donné son accord : remerciez-le et terminez l'entretien.":
        "The respondent has not given consent: thank them and end the interview.",
    "L'organisation a-t-elle eu des activités au cours des 12 derniers mois ?":
        "Has the organisation carried out any activities in the last 12 months?",
    "Organisation non active : remerciez le répondant et terminez l'entretien.":
        "Organisation not active: thank the respondent and end the interview.",
    # -- A. identification -------------------------------------------------------------
    "A. Identification de l'organisation et du répondant": "A. Identification of the organisation and the respondent",
    "Nom de l'organisation": "Name of the organisation",
    "Nom et prénom du répondant": "Respondent's full name",
    "Fonction du répondant dans l'organisation": "Respondent's position in the organisation",
    "Autre fonction (précisez)": "Other position (specify)",
    "Téléphone du répondant": "Respondent's telephone number",
    "Adresse e-mail du répondant": "Respondent's email address",
    "Forme juridique de l'organisation": "Legal form of the organisation",
    "Autre forme juridique (précisez)": "Other legal form (specify)",
    "Année de création de l'organisation": "Year the organisation was founded",
    "Région du siège de l'organisation": "Region of the organisation's head office",
    "Province ou préfecture": "Province or prefecture",
    "Milieu d'intervention": "Setting of operation",
    "Coordonnées GPS du siège (facultatif)": "GPS coordinates of the head office (optional)",
    "Secteur d'activité principal": "Main sector of activity",
    "Autre secteur (précisez)": "Other sector (specify)",
    "Groupes cibles (plusieurs réponses possibles)": "Target groups (several answers possible)",
    "Autre groupe cible (précisez)": "Other target group (specify)",
    "Nombre total de membres (adhérents ou coopérateurs)": "Total number of members (association or cooperative members)",
    "Dont nombre de femmes": "Of whom, number of women",
    "Portée géographique des activités": "Geographical scope of the activities",
    "L'organisation dispose-t-elle d'un local (propre, loué ou mis à disposition) ?":
        "Does the organisation have premises (owned, rented or provided free of charge)?",
    # -- B. needs and presence of social innovation -------------------------------------
    "B. Besoins sociaux et présence de l'innovation sociale": "B. Social needs and presence of social innovation",
    "À quels besoins sociaux l'organisation répond-elle ? (plusieurs réponses possibles)":
        "Which social needs does the organisation address? (several answers possible)",
    "Autre besoin social (précisez)": "Other social need (specify)",
    "Ces besoins sont-ils satisfaits par l'État ou par le marché ?": "Are these needs met by the State or by the market?",
    "Ces besoins ont-ils fait l'objet d'un diagnostic ?": "Have these needs been the subject of a needs assessment?",
    "Dans quelle mesure ce diagnostic a-t-il été participatif (avec les personnes concernées) ?":
        "To what extent was this assessment participatory (involving the people concerned)?",
    "Connaissez-vous le concept d'« innovation sociale » ?": "Are you familiar with the concept of “social innovation”?",
    "Je considère notre organisation comme socialement innovante.": "I consider our organisation to be socially innovative.",
    "Quelles innovations l'organisation a-t-elle introduites au cours des 3 dernières années ? (plusieurs réponses "
    "possibles)": "Which innovations has the organisation introduced in the last 3 years? (several answers possible)",
    "Voici des affirmations sur les activités de l'organisation. Pour chaque affirmation, indiquez votre degré "
    "d'accord.": "Here are some statements about the organisation's activities. For each statement, indicate how far "
                 "you agree.",
    "Nouveauté": "Novelty",
    "Nos activités apportent des solutions qui n'existaient pas dans notre territoire avant nous.":
        "Our activities provide solutions that did not exist in our area before us.",
    "Nous avons adapté ou réinventé des pratiques existantes, y compris traditionnelles (Agdal, Twiza...), pour "
    "répondre à des besoins actuels.":
        "We have adapted or reinvented existing practices, including traditional ones (Agdal, Twiza...), to meet "
        "current needs.",
    "Notre façon de faire est différente de celle des autres organisations de notre domaine.":
        "Our way of working differs from that of other organisations in our field.",
    "Nos activités reproduisent ce que font déjà les autres organisations, sans rien de nouveau.":
        "Our activities replicate what other organisations already do, with nothing new.",
    "Finalité sociale": "Social purpose",
    "Nous répondons à des besoins sociaux que ni l'État ni le marché ne satisfont.":
        "We address social needs that neither the State nor the market meets.",
    "Nos activités s'adressent d'abord à des personnes ou à des groupes défavorisés.":
        "Our activities are aimed primarily at disadvantaged people or groups.",
    "Dans nos décisions, la finalité sociale passe avant tout objectif financier.":
        "In our decisions, the social purpose comes before any financial objective.",
    "Les besoins auxquels nous répondons sont déjà bien couverts par les services publics ou privés.":
        "The needs we address are already well covered by public or private services.",
    "Participation et autonomisation": "Participation and empowerment",
    "Les bénéficiaires participent à la conception de nos activités.": "Beneficiaries take part in designing our activities.",
    "Les bénéficiaires participent aux décisions importantes de l'organisation.":
        "Beneficiaries take part in the organisation's important decisions.",
    "Nos activités renforcent la capacité des bénéficiaires à agir par eux-mêmes.":
        "Our activities strengthen beneficiaries' capacity to act for themselves.",
    "Les bénéficiaires reçoivent nos services sans être consultés.": "Beneficiaries receive our services without being consulted.",
    "Gouvernance et collaboration": "Governance and collaboration",
    "Les décisions importantes sont prises collectivement et démocratiquement (assemblée générale, conseil).":
        "Important decisions are taken collectively and democratically (general assembly, board).",
    "Nous travaillons en partenariat avec d'autres acteurs (associations, collectivités, entreprises, universités).":
        "We work in partnership with other actors (associations, local authorities, businesses, universities).",
    "Les comptes et les décisions sont partagés de manière transparente avec les membres.":
        "Accounts and decisions are shared transparently with the members.",
    "Les décisions sont prises par une seule personne, sans consultation.": "Decisions are taken by a single person, without consultation.",
    "Ancrage territorial": "Territorial embeddedness",
    "Nos activités valorisent les ressources locales (savoir-faire, produits, patrimoine).":
        "Our activities make the most of local resources (know-how, products, heritage).",
    "Nous entretenons des liens étroits avec les habitants et les acteurs de notre territoire.":
        "We maintain close ties with the inhabitants and actors of our area.",
    "Nos projets sont conçus à partir des spécificités de notre territoire.":
        "Our projects are designed around the specific features of our area.",
    "Nos activités pourraient être menées n'importe où, sans lien avec notre territoire.":
        "Our activities could be carried out anywhere, with no connection to our area.",
    "Diffusion et changement institutionnel": "Diffusion and institutional change",
    "D'autres organisations ont repris ou imité nos pratiques.": "Other organisations have adopted or imitated our practices.",
    "Nos réseaux nous permettent de diffuser nos innovations au-delà de notre territoire.":
        "Our networks enable us to spread our innovations beyond our area.",
    "Nos actions ont contribué à faire évoluer des politiques publiques, des règles ou des pratiques "
    "institutionnelles.": "Our actions have helped to change public policies, rules or institutional practices.",
    "L'État ou les collectivités territoriales ont intégré ou soutenu durablement l'une de nos initiatives.":
        "The State or local authorities have taken over or given lasting support to one of our initiatives.",
    # -- C. process: internal environment ----------------------------------------------
    "C. L'innovation sociale en tant que processus : environnement interne":
        "C. Social innovation as a process: internal environment",
    "Quelle importance accordez-vous à l'innovation dans vos projets et activités ?":
        "How important is innovation in your projects and activities?",
    "Quels outils utilisez-vous pour communiquer sur vos activités ? (plusieurs réponses possibles)":
        "Which tools do you use to communicate about your activities? (several answers possible)",
    "Autre outil de communication (précisez)": "Other communication tool (specify)",
    "Nombre de salariés à temps plein": "Number of full-time employees",
    "Nombre de salariés à temps partiel ou consultants réguliers": "Number of part-time employees or regular consultants",
    "Nombre de bénévoles réguliers (au moins une fois par mois)": "Number of regular volunteers (at least once a month)",
    "Nombre de bénévoles occasionnels": "Number of occasional volunteers",
    "Budget annuel total du dernier exercice clos (en dirhams)": "Total annual budget of the last closed financial year (in dirhams)",
    "Sources de financement : part de chaque source dans les ressources totales du dernier exercice (en %)":
        "Sources of funding: share of each source in the total resources of the last financial year (%)",
    "Donnez la part approximative de chaque source (0 si la source n'est pas utilisée) ; le total doit faire 100 %.":
        "Give the approximate share of each source (0 if the source is not used); the total must be 100%.",
    "Cotisations des membres (%)": "Membership fees (%)",
    "Dons de particuliers (%)": "Donations from individuals (%)",
    "Sponsoring et mécénat d'entreprises (%)": "Corporate sponsorship and patronage (%)",
    "Subventions publiques de l'État (ministères, agences) (%)": "State grants (ministries, agencies) (%)",
    "Subventions des collectivités territoriales (commune, province, région) (%)":
        "Grants from local authorities (commune, province, region) (%)",
    "Financement de l'INDH (%)": "INDH funding (National Initiative for Human Development) (%)",
    "Bailleurs de fonds internationaux et coopération (%)": "International donors and development cooperation (%)",
    "Activités marchandes (ventes de biens ou services) (%)": "Market activities (sales of goods or services) (%)",
    "Financement participatif (crowdfunding) (%)": "Crowdfunding (%)",
    "Emprunts et microcrédit (%)": "Loans and microcredit (%)",
    "Autres sources (%)": "Other sources (%)",
    "Autre source de financement (précisez)": "Other source of funding (specify)",
    "Total déclaré : ${fund_total} %. Confirmez que le total fait 100 %.":
        "Declared total: ${fund_total}%. Confirm that the total is 100%.",
    "L'organisation exerce-t-elle des activités marchandes (vente de biens ou de services) ?":
        "Does the organisation carry out market activities (sale of goods or services)?",
    "Comment utilisez-vous les excédents des activités marchandes ? (plusieurs réponses possibles)":
        "How do you use the surpluses from market activities? (several answers possible)",
    "Autre utilisation des excédents (précisez)": "Other use of surpluses (specify)",
    "Vos objectifs économiques entrent-ils en conflit avec vos objectifs sociaux ?":
        "Do your economic objectives conflict with your social objectives?",
    "Importance de chaque acteur dans la réalisation de vos projets": "Importance of each actor in carrying out your projects",
    "Entreprises privées": "Private companies",
    "Pouvoirs publics (État, collectivités)": "Public authorities (State, local authorities)",
    "Autres associations ou coopératives": "Other associations or cooperatives",
    "ONG": "NGOs",
    "Bailleurs de fonds étrangers": "Foreign donors",
    "Universités et centres de recherche": "Universities and research centres",
    "Médias": "Media",
    "L'organisation est-elle membre d'un réseau, d'une fédération ou d'une union ?":
        "Is the organisation a member of a network, a federation or a union?",
    "Ce réseau vous permet-il d'élargir et de diffuser vos innovations ?":
        "Does this network enable you to scale up and spread your innovations?",
    "Capacités internes de l'organisation. Pour chaque affirmation, indiquez votre degré d'accord.":
        "Internal capacities of the organisation. For each statement, indicate how far you agree.",
    "Ressources humaines": "Human resources",
    "Nous disposons des compétences nécessaires pour mener nos projets.": "We have the skills needed to carry out our projects.",
    "Nous mobilisons facilement des bénévoles quand nous en avons besoin.": "We easily mobilise volunteers when we need them.",
    "Le départ d'une ou deux personnes clés mettrait nos activités en danger.":
        "The departure of one or two key people would put our activities at risk.",
    "Capacité financière": "Financial capacity",
    "Nos ressources financières couvrent nos besoins de fonctionnement.": "Our financial resources cover our operating needs.",
    "Des financements stables nous permettent de planifier nos activités sur plusieurs années.":
        "Stable funding allows us to plan our activities over several years.",
    "Nous avons souvent des difficultés à payer nos charges courantes.": "We often have difficulty paying our running costs.",
    "Gestion et outils numériques": "Management and digital tools",
    "Nous tenons une comptabilité régulière et des procédures de gestion écrites.":
        "We keep regular accounts and written management procedures.",
    "Nous utilisons des outils numériques pour gérer nos activités (tableurs, logiciels, applications).":
        "We use digital tools to manage our activities (spreadsheets, software, applications).",
    "Nous planifions nos activités avec des objectifs et des indicateurs de suivi.":
        "We plan our activities with objectives and monitoring indicators.",
    "Communication": "Communication",
    "Nous communiquons régulièrement sur nos activités auprès du public.":
        "We communicate regularly with the public about our activities.",
    "Les réseaux sociaux ou notre site internet font connaître nos actions.":
        "Social media or our website make our actions known.",
    "Notre organisation est peu connue en dehors de ses membres.": "Our organisation is little known outside its members.",
    # -- D. results ------------------------------------------------------------------------
    "D. L'innovation sociale en tant que résultats": "D. Social innovation as outcomes",
    "Mesurez-vous l'impact de vos projets et activités ?": "Do you measure the impact of your projects and activities?",
    "Comment mesurez-vous cet impact ? (plusieurs réponses possibles)": "How do you measure this impact? (several answers possible)",
    "Autre méthode de mesure de l'impact (précisez)": "Other method of measuring impact (specify)",
    "Quel est l'impact de vos activités sur les personnes et groupes ciblés, dans chacun des domaines suivants ?":
        "What is the impact of your activities on the targeted people and groups in each of the following areas?",
    "Impact par domaine": "Impact by area",
    "Intégration dans la vie sociale": "Integration into social life",
    "Intégration dans la vie économique": "Integration into economic life",
    "Lutte contre le chômage et la pauvreté": "Fight against unemployment and poverty",
    "Lutte contre l'exclusion": "Fight against exclusion",
    "Amélioration des conditions de vie": "Improvement of living conditions",
    "Amélioration des compétences et du savoir-faire": "Improvement of skills and know-how",
    "Amélioration de la situation des femmes": "Improvement of the situation of women",
    "Protection et sécurité physiques et sociales des enfants": "Physical and social protection and safety of children",
    "Changements dans les comportements et dans la communauté": "Changes in behaviour and in the community",
    "Nos activités ont changé durablement les comportements des bénéficiaires.":
        "Our activities have changed beneficiaries' behaviour in a lasting way.",
    "La communauté locale s'est davantage mobilisée grâce à nos actions.":
        "The local community has become more engaged thanks to our actions.",
    "Les bénéficiaires ont gagné en autonomie et en confiance en eux.":
        "Beneficiaries have gained in autonomy and self-confidence.",
    "Sans nos activités, la situation des bénéficiaires serait à peu près la même.":
        "Without our activities, the beneficiaries' situation would be much the same.",
    "Nombre de bénéficiaires atteints (personnes)": "Number of beneficiaries reached (people)",
    "Bénéficiaires atteints il y a 3 ans (année N-3)": "Beneficiaries reached 3 years ago (year N-3)",
    "Bénéficiaires atteints il y a 2 ans (année N-2)": "Beneficiaries reached 2 years ago (year N-2)",
    "Bénéficiaires atteints l'an dernier (année N-1)": "Beneficiaries reached last year (year N-1)",
    "Nombre d'emplois créés par l'organisation au cours des 3 dernières années (y compris pour les bénéficiaires)":
        "Number of jobs created by the organisation in the last 3 years (including for beneficiaries)",
    "Revenu total distribué aux membres de la coopérative au dernier exercice (en dirhams)":
        "Total income distributed to the cooperative's members in the last financial year (in dirhams)",
    # -- E. external environment and challenges --------------------------------------------
    "E. Environnement externe et défis": "E. External environment and challenges",
    "Dans quelle mesure chacun des éléments suivants est-il un problème pour votre organisation ?":
        "To what extent is each of the following a problem for your organisation?",
    "Insuffisance des ressources financières": "Insufficient financial resources",
    "Difficulté à trouver des compétences spécifiques": "Difficulty finding specific skills",
    "Faible sensibilisation et regard de la société sur la cause": "Low public awareness of the cause and society's view of it",
    "Cadre réglementaire et juridique": "Regulatory and legal framework",
    "Manque de formations universitaires et de recherche dans le domaine":
        "Lack of university training and research in the field",
    "Sous-effectif": "Understaffing",
    "Communication externe insuffisante": "Insufficient external communication",
    "Efforts insuffisants des pouvoirs publics": "Insufficient efforts by the public authorities",
    "Non-application des discours et promesses publics": "Public statements and promises not put into practice",
    "Préférence des partenaires pour financer seulement les coûts directs liés aux bénéficiaires":
        "Partners' preference for funding only the direct costs related to beneficiaries",
    "Problèmes de communication interne": "Internal communication problems",
    "Dégradation de la cohésion sociale": "Deterioration of social cohesion",
    "Faible participation de la communauté": "Low community participation",
    "Poids élevé de la masse salariale": "High wage bill",
    "Contexte culturel et religieux": "Cultural and religious context",
    "Cadre fiscal inadapté": "Unsuitable tax framework",
    "Ces problèmes ont-ils déjà bloqué ou freiné certains de vos projets ?":
        "Have these problems ever blocked or slowed down any of your projects?",
    "Environnement externe. Pour chaque affirmation, indiquez votre degré d'accord.":
        "External environment. For each statement, indicate how far you agree.",
    "Obstacles financiers": "Financial barriers",
    "Il est difficile pour nous d'obtenir des financements extérieurs.": "It is difficult for us to obtain external funding.",
    "Les banques et les organismes de microcrédit ne répondent pas à nos besoins.":
        "Banks and microcredit institutions do not meet our needs.",
    "Les bailleurs de fonds sont faciles d'accès pour une organisation comme la nôtre.":
        "Donors are easy to approach for an organisation like ours.",
    "Obstacles réglementaires et fiscaux": "Regulatory and tax barriers",
    "Les procédures administratives (création, renouvellement, autorisations) freinent nos activités.":
        "Administrative procedures (registration, renewal, authorisations) hold back our activities.",
    "Le cadre fiscal n'est pas adapté à nos activités, notamment marchandes.":
        "The tax framework is not suited to our activities, especially our market activities.",
    "Le cadre juridique actuel nous permet de travailler sans difficulté.":
        "The current legal framework allows us to work without difficulty.",
    "Obstacles socioculturels": "Sociocultural barriers",
    "La population est peu sensibilisée à la cause que nous défendons.": "The public has little awareness of the cause we support.",
    "Les personnes que nous servons sont stigmatisées par la société.": "The people we serve are stigmatised by society.",
    "Le contexte culturel ou religieux freine certaines de nos actions.":
        "The cultural or religious context holds back some of our actions.",
    "Soutien public insuffisant": "Insufficient public support",
    "Les pouvoirs publics ne soutiennent pas suffisamment les organisations comme la nôtre.":
        "The public authorities do not give enough support to organisations like ours.",
    "Les promesses des pouvoirs publics ne sont pas suivies d'effets.": "The public authorities' promises are not acted upon.",
    "Les collectivités territoriales collaborent activement avec nous.": "Local authorities actively collaborate with us.",
    "Avez-vous déjà bénéficié de services de structures d'appui (incubateurs, agences, programmes "
    "d'accompagnement) ?": "Have you ever used the services of support bodies (incubators, agencies, support "
                           "programmes)?",
    "De quel type de service s'agissait-il ? (plusieurs réponses possibles)":
        "What type of service was it? (several answers possible)",
    "Autre type d'appui (précisez)": "Other type of support (specify)",
    "L'État ou les collectivités territoriales ont-ils intégré ou institutionnalisé l'une de vos initiatives ?":
        "Have the State or local authorities taken over or institutionalised any of your initiatives?",
    "Quels indicateurs utilisez-vous pour mesurer votre performance ? (plusieurs réponses possibles)":
        "Which indicators do you use to measure your performance? (several answers possible)",
    "Autre indicateur de performance (précisez)": "Other performance indicator (specify)",
    "Avez-vous une stratégie pour assurer la durabilité de vos activités à long terme ?":
        "Do you have a strategy to ensure the long-term sustainability of your activities?",
    "Souhaitez-vous ajouter quelque chose ?": "Is there anything you would like to add?",
    "Merci pour votre participation. Notez l'heure de fin de l'entretien.":
        "Thank you for taking part. Note the time at which the interview ended.",
    # -- hints ---------------------------------------------------------------------------------
    "« Pilote » ou « Formation » pour les entretiens qui ne font pas partie de l'échantillon (ils seront exclus de "
    "l'analyse).": "“Pilot” or “Training” for interviews that are not part of the sample (they will be excluded from "
                   "the analysis).",
    "Critère d'éligibilité : seules les organisations actives sont interrogées.":
        "Eligibility criterion: only active organisations are interviewed.",
    "Facultatif ; uniquement pour un éventuel rappel.": "Optional; only for a possible follow-up call.",
    "Facultatif.": "Optional.",
    "Année de création officielle (dépôt du dossier ou agrément).": "Official year of founding (filing of the application or approval).",
    "Découpage régional de 2015 (12 régions).": "2015 regional division (12 regions).",
    "Union de coopératives : total des coopérateurs des coopératives membres. Si le répondant ne sait pas, saisir "
    "-98 ; en cas de refus, saisir -99.": "Union of cooperatives: total members of the member cooperatives. If the "
                                          "respondent does not know, enter -98; if they refuse, enter -99.",
    "Si le répondant ne sait pas, saisir -98 ; en cas de refus, saisir -99.":
        "If the respondent does not know, enter -98; if they refuse, enter -99.",
    "Si le total n'est pas 100 %, corrigez les parts ci-dessus.": "If the total is not 100%, correct the shares above.",
    "« Sans objet » si l'organisation n'agit pas dans ce domaine.": "“Not applicable” if the organisation is not active in this area.",
    # -- required and constraint messages ------------------------------------------------------
    "Cette question est obligatoire.": "This question is required.",
    "Numéro de téléphone non valide (chiffres, + et espaces).": "Invalid telephone number (digits, + and spaces).",
    "Adresse e-mail non valide.": "Invalid email address.",
    "L'année doit être comprise entre 1900 et l'année en cours.": "The year must be between 1900 and the current year.",
    "Entrez un nombre entre 0 et 1000000 (-98 = Je ne sais pas, -99 = Refus).":
        "Enter a number between 0 and 1000000 (-98 = Don't know, -99 = Refused).",
    "Le nombre de femmes doit être entre 0 et le nombre total de membres (-98 = Je ne sais pas, -99 = Refus).":
        "The number of women must be between 0 and the total number of members (-98 = Don't know, -99 = Refused).",
    "« Aucune » ne peut pas être combinée avec une autre réponse.": "“None” cannot be combined with another answer.",
    "« Aucun » ne peut pas être combiné avec une autre réponse.": "“None” cannot be combined with another answer.",
    "Entrez un nombre entre 0 et 100000 (-98 = Je ne sais pas, -99 = Refus).":
        "Enter a number between 0 and 100000 (-98 = Don't know, -99 = Refused).",
    "Entrez un nombre entre 0 et 1000000000 (-98 = Je ne sais pas, -99 = Refus).":
        "Enter a number between 0 and 1000000000 (-98 = Don't know, -99 = Refused).",
    "La part doit être comprise entre 0 et 100.": "The share must be between 0 and 100.",
    "Les parts doivent totaliser 100 % (total actuel : ${fund_total} %).":
        "The shares must add up to 100% (current total: ${fund_total}%).",
    "Une part de ressources issue d'activités marchandes a été déclarée (${fund_market} %) : vérifiez la réponse ou "
    "la part.": "A share of resources from market activities has been declared (${fund_market}%): check the answer "
                "or the share.",
    "« Pas d'excédent » ne peut pas être combiné avec une autre réponse.": "“No surplus” cannot be combined with another answer.",
    "Entrez un nombre entre 0 et 10000000 (-98 = Je ne sais pas, -99 = Refus).":
        "Enter a number between 0 and 10000000 (-98 = Don't know, -99 = Refused).",
}

#: French label -> English (choice labels; keyed by list where the same French word needs another English one).
CHOICES = {
    "Oui": "Yes",
    "Non": "No",
    "Je ne sais pas": "Don't know",
    "Refus": "Refused",
    "Enquête (échantillon)": "Survey (sample)",
    "Pilote (pré-test)": "Pilot (pre-test)",
    "Formation ou test": "Training or test",
    "Face-à-face": "Face to face",
    "Téléphone": "Telephone",
    "Visioconférence": "Video call",
    "Auto-administré (en ligne)": "Self-administered (online)",
    "Président(e)": "President",
    "Directeur/directrice": "Director",
    "Secrétaire général(e)": "Secretary general",
    "Trésorier/trésorière": "Treasurer",
    "Gérant(e) (coopérative)": "Manager (cooperative)",
    "Coordinateur/coordinatrice de projets": "Project coordinator",
    "Autre": "Other",
    "Association": "Association",
    "Association reconnue d'utilité publique": "Association recognised as being of public utility",
    "Coopérative": "Cooperative",
    "Union de coopératives": "Union of cooperatives",
    "Fondation": "Foundation",
    # regions: the official names of the 2015 division (proper names, kept; "the Oriental" region)
    "Tanger-Tétouan-Al Hoceïma": "Tanger-Tétouan-Al Hoceïma",
    "L'Oriental": "Oriental",
    "Fès-Meknès": "Fès-Meknès",
    "Rabat-Salé-Kénitra": "Rabat-Salé-Kénitra",
    "Béni Mellal-Khénifra": "Béni Mellal-Khénifra",
    "Casablanca-Settat": "Casablanca-Settat",
    "Marrakech-Safi": "Marrakech-Safi",
    "Drâa-Tafilalet": "Drâa-Tafilalet",
    "Souss-Massa": "Souss-Massa",
    "Guelmim-Oued Noun": "Guelmim-Oued Noun",
    "Laâyoune-Sakia El Hamra": "Laâyoune-Sakia El Hamra",
    "Dakhla-Oued Ed-Dahab": "Dakhla-Oued Ed-Dahab",
    "Urbain": "Urban",
    "Rural": "Rural",
    "Mixte (urbain et rural)": "Mixed (urban and rural)",
    "Action sociale et humanitaire": "Social and humanitarian action",
    "Éducation, alphabétisation": "Education, literacy",
    "Santé": "Health",
    "Handicap": "Disability",
    "Femmes et égalité de genre": "Women and gender equality",
    "Enfance et jeunesse": "Children and youth",
    "Environnement": "Environment",
    "Culture, sport et loisirs": "Culture, sport and leisure",
    "Développement local": "Local development",
    "Agriculture et élevage": "Agriculture and livestock",
    "Agroalimentaire (argan, plantes aromatiques...)": "Agri-food (argan, aromatic plants...)",
    "Artisanat": "Handicrafts",
    "Habitat": "Housing",
    "Pêche": "Fishing",
    "Services et tourisme": "Services and tourism",
    "Femmes": "Women",
    "Enfants": "Children",
    "Jeunes": "Young people",
    "Personnes âgées": "Older people",
    "Personnes en situation de handicap": "People with disabilities",
    "Population rurale": "Rural population",
    "Chômeurs": "Unemployed people",
    "Personnes pauvres ou précaires": "Poor or vulnerable people",
    "Migrants": "Migrants",
    "Malades": "Sick people",
    "Petits producteurs, artisans": "Small producers, artisans",
    "Population générale": "General population",
    "Locale (commune, quartier)": "Local (commune, neighbourhood)",
    "Provinciale": "Provincial",
    "Régionale": "Regional",
    "Nationale": "National",
    "Internationale": "International",
    "Éducation et formation": "Education and training",
    "Emploi et revenu": "Employment and income",
    "Logement": "Housing",
    "Alimentation": "Food",
    "Eau, assainissement, énergie": "Water, sanitation, energy",
    "Protection sociale et assistance": "Social protection and assistance",
    "Inclusion des personnes handicapées": "Inclusion of people with disabilities",
    "Égalité femmes-hommes": "Gender equality",
    "Protection de l'enfance": "Child protection",
    "Culture et loisirs": "Culture and leisure",
    "Ni par l'État ni par le marché": "Neither by the State nor by the market",
    "Pas par l'État (mais en partie par le marché)": "Not by the State (but partly by the market)",
    "Pas par le marché (mais en partie par l'État)": "Not by the market (but partly by the State)",
    "En partie par les deux": "Partly by both",
    "Ils sont déjà bien satisfaits": "They are already well met",
    "Non, aucun diagnostic": "No, no assessment",
    "Oui, un diagnostic informel": "Yes, an informal assessment",
    "Oui, un diagnostic formel (étude, enquête)": "Yes, a formal assessment (study, survey)",
    "Pas participatif": "Not participatory",
    "Les personnes concernées ont été consultées": "The people concerned were consulted",
    "Le diagnostic a été co-construit avec elles": "The assessment was co-designed with them",
    "Jamais entendu parler": "Never heard of it",
    "Entendu parler, sans pouvoir le définir": "Heard of it, but cannot define it",
    "Je le connais bien": "I know it well",
    "Un nouveau service": "A new service",
    "Un nouveau produit": "A new product",
    "Un nouveau procédé ou une nouvelle méthode de travail": "A new process or working method",
    "Une nouvelle forme d'organisation": "A new form of organisation",
    "Un nouveau partenariat": "A new partnership",
    "Un nouveau modèle de financement": "A new funding model",
    "Aucune": "None",
    "Pas du tout d'accord": "Strongly disagree",
    "Plutôt pas d'accord": "Somewhat disagree",
    "Ni d'accord ni pas d'accord": "Neither agree nor disagree",
    "Plutôt d'accord": "Somewhat agree",
    "Tout à fait d'accord": "Strongly agree",
    "Aucune importance": "Not at all important",
    "Peu importante": "Slightly important",
    "Moyennement importante": "Moderately important",
    "Importante": "Important",
    "Très importante": "Very important",
    "Non impliqué": "Not involved",
    "Impliqué, peu important": "Involved, of little importance",
    "Impliqué, moyennement important": "Involved, of moderate importance",
    "Impliqué, important": "Involved, important",
    "Impliqué, très important": "Involved, very important",
    "Jamais": "Never",
    "Rarement": "Rarely",
    "Parfois": "Sometimes",
    "Souvent": "Often",
    "Toujours": "Always",
    "Aucun impact": "No impact",
    "Impact faible": "Low impact",
    "Impact moyen": "Moderate impact",
    "Impact fort": "High impact",
    "Impact très fort": "Very high impact",
    "Sans objet (domaine non concerné)": "Not applicable (area not concerned)",
    "Pas un problème": "Not a problem",
    "Problème mineur": "Minor problem",
    "Problème modéré": "Moderate problem",
    "Problème grave": "Serious problem",
    "Problème très grave": "Very serious problem",
    "Site internet": "Website",
    "Réseaux sociaux": "Social media",
    "Événements (journées, foires, rencontres)": "Events (open days, fairs, meetings)",
    "Brochures, dépliants, affiches": "Brochures, leaflets, posters",
    "Presse, radio, télévision": "Press, radio, television",
    "Rapport annuel d'activité": "Annual activity report",
    "Aucun": "None",
    "Couvrir les charges et dépenses": "Cover costs and expenses",
    "Financer de nouveaux projets": "Fund new projects",
    "Améliorer la qualité des produits et projets actuels": "Improve the quality of current products and projects",
    "Placement, épargne": "Investment, savings",
    "Redistribution aux membres": "Redistribution to members",
    "Pas d'excédent": "No surplus",
    "Retours et satisfaction des bénéficiaires": "Beneficiary feedback and satisfaction",
    "Statistiques internes de suivi": "Internal monitoring statistics",
    "Retour social sur investissement (SROI)": "Social return on investment (SROI)",
    "Cadre logique": "Logical framework",
    "Évaluation externe": "External evaluation",
    "Financier": "Financial",
    "Technique": "Technical",
    "Juridique": "Legal",
    "Gestion": "Management",
    "Données du marché": "Market data",
    "Nombre de personnes servies ou atteintes": "Number of people served or reached",
    "Retours et satisfaction des personnes ciblées": "Feedback and satisfaction of the people targeted",
    "Excédent dégagé": "Surplus generated",
    "Nombre de partenariats": "Number of partnerships",
    "Subventions publiques reçues": "Public grants received",
    "Institutionnalisation et diffusion des innovations": "Institutionalisation and diffusion of innovations",
    "Engagement de la communauté": "Community engagement",
    "Nombre de bénévoles engagés": "Number of volunteers involved",
    "Aucun indicateur": "No indicator",
    "Oui, informelle (non écrite)": "Yes, informal (not written)",
    "Oui, formalisée dans un plan écrit": "Yes, formalised in a written plan",
}


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _write(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def add_english(rows: list[list[str]], table: dict[str, str], sheet: str) -> tuple[list[list[str]], list[str]]:
    """Rows with the English columns added (or rewritten); the French texts without a translation."""
    header = rows[0]
    missing: list[str] = []
    for kind in KINDS:
        fr_col, ar_col, en_col = f"{kind}::{FR}", f"{kind}::{AR}", f"{kind}::{EN}"
        if fr_col not in header:
            continue
        if en_col in header:  # rewrite: drop the old column first
            k = header.index(en_col)
            rows = [r[:k] + r[k + 1:] for r in rows]
            header = rows[0]
        fr = header.index(fr_col)
        at = (header.index(ar_col) if ar_col in header else fr) + 1
        new = [rows[0][:at] + [en_col] + rows[0][at:]]
        for line, r in enumerate(rows[1:], start=2):
            r = r + [""] * (len(header) - len(r))
            text = r[fr].strip()
            english = table.get(text, "") if text else ""
            if text and not english:
                missing.append(f"{sheet}.csv line {line}, {fr_col}: {text}")
            new.append(r[:at] + [english] + r[at:])
        rows, header = new, new[0]
    return rows, missing


def main(folder: str = "questionnaire") -> int:
    root = Path(folder)
    survey, missing_s = add_english(_read(root / "survey.csv"), SURVEY, "survey")
    choices, missing_c = add_english(_read(root / "choices.csv"), CHOICES, "choices")
    missing = missing_s + missing_c
    if missing:
        print("no English translation for:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    _write(root / "survey.csv", survey)
    _write(root / "choices.csv", choices)
    print(f"English columns written to {root / 'survey.csv'} and {root / 'choices.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
