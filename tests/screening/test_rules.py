"""The pure rules, table by table: no database."""

import datetime

import pytest

from screening import rules
from screening.rules import (
    AREAS,
    RULES,
    ClearanceFacts,
    ClientFacts,
    FindingFacts,
    ScreeningFacts,
    Status,
    TypeFacts,
    evaluate,
)

DAY = datetime.date(2026, 11, 23)
ADULT = ClientFacts(birth_date=datetime.date(1985, 5, 17))
CLASSIC = TypeFacts(code="classic-back", name="Classic back massage")
THERAPEUTIC = TypeFacts(code="therapeutic-back", name="Therapeutic back massage", requires_referral=True)
CHILDREN = TypeFacts(code="children-back", name="Children's back massage", min_age=1)
UNIVERSAL = ("spine", "kidney-area", "heart-area", "lymph-nodes")


def finding(code, **details):
    rule = RULES[code]
    return FindingFacts(code=code, kind=rule.kind, name=code.replace("-", " ").capitalize(), details=details)


def screened(*findings, days_ago=0):
    return ScreeningFacts(taken_on=DAY - datetime.timedelta(days=days_ago), findings=tuple(findings))


def judge(*, facts=ADULT, massage_type=CLASSIC, day=DAY, screening=None, clearances=(), stale=90, course=None):
    return evaluate(
        facts=facts,
        massage_type=massage_type,
        day=day,
        screening=screening,
        clearances=list(clearances),
        stale_after_days=stale,
        course=course,
    )


def referral(issued_on, valid_until, massage_type="therapeutic-back", kind="referral"):
    return ClearanceFacts(kind=kind, issued_on=issued_on, valid_until=valid_until, covers_massage_type=massage_type)


def permission(code, issued_on=DAY - datetime.timedelta(days=5), valid_until=DAY + datetime.timedelta(days=5)):
    return ClearanceFacts(kind="permission", issued_on=issued_on, valid_until=valid_until, covers_contraindication=code)


ABSOLUTE_STANDING = [
    "fracture",
    "osteomyelitis",
    "periostitis",
    "acute-infection",
    "clotting-disorder",
    "thrombosis",
    "internal-bleeding",
    "open-wounds",
    "ruptured-muscle",
    "oncology",
    "serious-cardiovascular",
]
ABSOLUTE_DAY_OF = ["fever", "intoxication"]


# --- Every catalogue entry ------------------------------------------------------


@pytest.mark.parametrize("code", ABSOLUTE_STANDING)
def test_standing_absolute_finding_blocks_whenever_screened(code):
    verdict = judge(screening=screened(finding(code), days_ago=30))
    assert verdict.status == Status.BLOCKED
    assert [b.code for b in verdict.blockers] == [code]
    assert verdict.is_bookable is False


@pytest.mark.parametrize("code", ABSOLUTE_DAY_OF)
def test_day_of_absolute_blocks_on_the_day_it_was_answered(code):
    verdict = judge(screening=screened(finding(code), days_ago=0))
    assert verdict.status == Status.BLOCKED
    assert [b.code for b in verdict.blockers] == [code]
    assert verdict.day_of_checked is True


@pytest.mark.parametrize("code", ABSOLUTE_DAY_OF)
def test_day_of_absolute_from_an_earlier_day_is_ignored(code):
    verdict = judge(screening=screened(finding(code), days_ago=1))
    assert verdict.status == Status.ALLOWED
    assert verdict.blockers == ()
    assert verdict.day_of_checked is False


@pytest.mark.parametrize(
    ("code", "avoid", "direction"),
    [
        ("high-blood-pressure", (), "neck-down"),
        ("low-blood-pressure", (), "bottom-up"),
        ("kidney-disease", ("kidney-area",), "bottom-up"),
        ("heart-disease", ("heart-area",), "bottom-up"),
        ("liver-disease", (), "bottom-up"),
        ("allergic-reactions", (), "bottom-up"),
    ],
)
def test_adapting_relative_finding_allows_with_its_adaptation(code, avoid, direction):
    verdict = judge(screening=screened(finding(code), days_ago=10))
    assert verdict.status == Status.ADAPTED
    assert verdict.is_bookable is True
    assert [(a.code, a.avoid, a.direction) for a in verdict.adaptations] == [
        (code, avoid, direction if direction == "neck-down" else "")
    ]
    assert verdict.direction == direction


def test_high_blood_pressure_turns_the_direction_neck_down():
    verdict = judge(screening=screened(finding("high-blood-pressure")))
    assert verdict.direction == rules.DIRECTION_NECK_DOWN
    assert verdict.reasons == ("High blood pressure: work from the neck down, not bottom-up.",)


def test_kidney_disease_says_no_percussion_over_the_kidneys():
    verdict = judge(screening=screened(finding("kidney-disease")))
    assert verdict.adaptations[0].reason == "Kidney disease: no percussion over the kidneys."


def test_heart_disease_says_no_patting_or_chopping_over_the_heart():
    verdict = judge(screening=screened(finding("heart-disease")))
    assert verdict.adaptations[0].reason == "Heart disease: no patting or chopping over the heart area."


def test_skin_disease_needs_a_clearance():
    verdict = judge(screening=screened(finding("skin-disease")))
    assert verdict.status == Status.NEEDS_CLEARANCE
    assert [m.code for m in verdict.missing_clearances] == ["skin-disease"]
    assert verdict.is_bookable is False


def test_skin_disease_with_a_valid_permission_is_allowed():
    verdict = judge(screening=screened(finding("skin-disease")), clearances=[permission("skin-disease")])
    assert verdict.status == Status.ALLOWED
    assert verdict.missing_clearances == ()


def test_skin_disease_permission_for_another_contraindication_does_not_cover_it():
    verdict = judge(screening=screened(finding("skin-disease")), clearances=[permission("kidney-disease")])
    assert verdict.status == Status.NEEDS_CLEARANCE


@pytest.mark.parametrize(
    ("weeks", "days_ago", "status"),
    [
        (None, 0, Status.BLOCKED),
        (1, 0, Status.BLOCKED),
        (13, 0, Status.BLOCKED),
        (14, 0, Status.ADAPTED),
        (30, 0, Status.ADAPTED),
        # Screened at week 12; two weeks later she is in week 14.
        (12, 14, Status.ADAPTED),
        (12, 6, Status.BLOCKED),
    ],
)
def test_pregnancy_blocks_the_first_trimester_and_adapts_later(weeks, days_ago, status):
    details = {} if weeks is None else {"pregnancy_weeks": weeks}
    verdict = judge(screening=screened(finding("pregnancy", **details), days_ago=days_ago))
    assert verdict.status == status


def test_pregnancy_in_the_first_trimester_gives_its_reason():
    verdict = judge(screening=screened(finding("pregnancy", pregnancy_weeks=8)))
    assert verdict.reasons == ("Pregnancy: no massage in the first trimester.",)
    assert [b.code for b in verdict.blockers] == ["pregnancy"]


def test_later_pregnancy_avoids_sacrum_and_coccyx():
    verdict = judge(screening=screened(finding("pregnancy", pregnancy_weeks=20)))
    assert [a.code for a in verdict.avoid_areas] == [*UNIVERSAL, "sacrum-coccyx"]
    assert verdict.adaptations[0].reason == "Pregnancy, week 20: sacrum and coccyx avoided."


def test_menstruation_on_the_day_adapts():
    verdict = judge(screening=screened(finding("menstruation")))
    assert verdict.status == Status.ADAPTED
    assert verdict.reasons == ("Menstruation: ask how she feels; gentle on the lower back.",)


def test_menstruation_from_an_earlier_day_is_ignored():
    assert judge(screening=screened(finding("menstruation"), days_ago=3)).status == Status.ALLOWED


def test_acute_back_pain_on_the_day_blocks_therapeutic_massage():
    verdict = judge(
        massage_type=THERAPEUTIC,
        screening=screened(finding("acute-back-pain")),
        clearances=[referral(DAY, DAY)],
    )
    assert verdict.status == Status.BLOCKED
    assert [b.code for b in verdict.blockers] == ["acute-back-pain"]


def test_acute_back_pain_after_the_day_needs_a_permission_for_therapeutic_massage():
    verdict = judge(
        massage_type=THERAPEUTIC,
        screening=screened(finding("acute-back-pain"), days_ago=7),
        clearances=[referral(DAY, DAY)],
    )
    assert verdict.status == Status.NEEDS_CLEARANCE
    assert [m.code for m in verdict.missing_clearances] == ["acute-back-pain"]


def test_acute_back_pain_covered_by_a_permission_allows_therapeutic_massage_later():
    verdict = judge(
        massage_type=THERAPEUTIC,
        screening=screened(finding("acute-back-pain"), days_ago=7),
        clearances=[referral(DAY, DAY), permission("acute-back-pain")],
    )
    assert verdict.status == Status.ALLOWED


def test_acute_back_pain_needs_a_permission_for_other_massage_even_on_the_day():
    verdict = judge(massage_type=CLASSIC, screening=screened(finding("acute-back-pain")))
    assert verdict.status == Status.NEEDS_CLEARANCE


@pytest.mark.parametrize("code", ["spine", "kidney-area", "heart-area", "lymph-nodes"])
def test_universal_local_area_is_avoided_for_everyone(code):
    verdict = judge(screening=screened())
    assert code in [a.code for a in verdict.avoid_areas]
    assert verdict.status == Status.ALLOWED


def test_local_finding_adds_its_area_without_changing_the_status():
    verdict = judge(screening=screened(finding("sacrum-coccyx")))
    assert verdict.status == Status.ALLOWED
    assert [a.code for a in verdict.avoid_areas] == [*UNIVERSAL, "sacrum-coccyx"]


def test_product_allergy_finding_forbids_each_allergen():
    verdict = judge(screening=screened(finding("product-allergy", allergens=["Rose", "orange"])))
    assert verdict.status == Status.ADAPTED
    assert verdict.allergens == ("orange", "rose")
    assert [a.reason for a in verdict.adaptations] == [
        "Allergen orange is not to be used.",
        "Allergen rose is not to be used.",
    ]


def test_product_allergy_reason_names_the_allergen_in_the_active_language():
    from django.utils import translation

    with translation.override("uk"):
        verdict = judge(screening=screened(finding("product-allergy", allergens=["rose", "mint"])))
        assert [a.reason for a in verdict.adaptations] == [
            "Алерген mint не використовувати.",
            "Алерген троянда не використовувати.",
        ]


def test_client_allergens_and_product_findings_are_united():
    facts = ClientFacts(birth_date=ADULT.birth_date, allergens=("jasmine", "rose"))
    verdict = judge(facts=facts, screening=screened(finding("product-allergy", allergens=["rose"])))
    assert verdict.allergens == ("jasmine", "rose")
    assert [a.allergen for a in verdict.adaptations] == ["jasmine", "rose"]


def test_every_rule_code_is_covered_by_a_test_in_this_module():
    covered = set(ABSOLUTE_STANDING) | set(ABSOLUTE_DAY_OF)
    covered |= {"high-blood-pressure", "low-blood-pressure", "kidney-disease", "heart-disease", "liver-disease"}
    covered |= {"allergic-reactions", "skin-disease", "pregnancy", "menstruation", "acute-back-pain"}
    covered |= {"spine", "kidney-area", "heart-area", "lymph-nodes", "sacrum-coccyx", "product-allergy"}
    assert covered == set(RULES)


def test_every_local_rule_has_an_area_label():
    assert {code for code, rule in RULES.items() if rule.kind == "local"} == set(AREAS)


# --- Screening presence and staleness ---------------------------------------------


def test_no_screening_needs_one():
    verdict = judge(screening=None)
    assert verdict.status == Status.NEEDS_SCREENING
    assert verdict.reasons == ("No screening on record.",)
    assert verdict.screening_taken_on is None


@pytest.mark.parametrize(
    ("days_ago", "status"), [(0, Status.ALLOWED), (90, Status.ALLOWED), (91, Status.NEEDS_SCREENING)]
)
def test_screening_goes_stale_after_the_configured_days(days_ago, status):
    assert judge(screening=screened(days_ago=days_ago), stale=90).status == status


def test_staleness_follows_the_setting_passed_in():
    assert judge(screening=screened(days_ago=31), stale=30).status == Status.NEEDS_SCREENING


def test_stale_screening_still_reports_its_findings():
    verdict = judge(screening=screened(finding("high-blood-pressure"), days_ago=120))
    assert verdict.status == Status.NEEDS_SCREENING
    assert [a.code for a in verdict.adaptations] == ["high-blood-pressure"]
    assert verdict.direction == "neck-down"


# --- Referrals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued_on", "valid_until", "status"),
    [
        (DAY, DAY, Status.ALLOWED),
        (DAY - datetime.timedelta(days=30), DAY, Status.ALLOWED),  # valid_until is inclusive
        (DAY - datetime.timedelta(days=30), DAY - datetime.timedelta(days=1), Status.NEEDS_CLEARANCE),
        (DAY + datetime.timedelta(days=1), DAY + datetime.timedelta(days=30), Status.NEEDS_CLEARANCE),
    ],
)
def test_therapeutic_massage_needs_a_referral_valid_on_the_day(issued_on, valid_until, status):
    verdict = judge(massage_type=THERAPEUTIC, screening=screened(), clearances=[referral(issued_on, valid_until)])
    assert verdict.status == status


def test_therapeutic_massage_without_referral_names_what_is_missing():
    verdict = judge(massage_type=THERAPEUTIC, screening=screened())
    assert verdict.status == Status.NEEDS_CLEARANCE
    assert verdict.missing_clearances == (
        rules.Concern("referral:therapeutic-back", "referral for Therapeutic back massage"),
    )


def test_referral_for_another_massage_type_does_not_count():
    verdict = judge(massage_type=THERAPEUTIC, screening=screened(), clearances=[referral(DAY, DAY, "lumbar")])
    assert verdict.status == Status.NEEDS_CLEARANCE


def test_a_permission_is_not_a_referral():
    verdict = judge(massage_type=THERAPEUTIC, screening=screened(), clearances=[referral(DAY, DAY, kind="permission")])
    assert verdict.status == Status.NEEDS_CLEARANCE


def test_therapeutic_massage_needs_a_referral_even_when_the_flag_is_off():
    unflagged = TypeFacts(code="therapeutic-back", name="Therapeutic", requires_referral=False)
    assert judge(massage_type=unflagged, screening=screened()).status == Status.NEEDS_CLEARANCE


def test_another_type_flagged_for_referral_needs_one():
    flagged = TypeFacts(code="scoliosis", name="Scoliosis massage", requires_referral=True)
    assert judge(massage_type=flagged, screening=screened()).status == Status.NEEDS_CLEARANCE


# --- Minors and minimum age -----------------------------------------------------


def test_minor_without_guardian_consent_needs_it():
    child = ClientFacts(birth_date=datetime.date(2015, 1, 1))
    verdict = judge(facts=child, screening=screened())
    assert verdict.status == Status.NEEDS_CLEARANCE
    assert verdict.missing_clearances == (rules.Concern("guardian-consent", "guardian consent"),)


def test_minor_with_guardian_consent_is_allowed():
    child = ClientFacts(birth_date=datetime.date(2015, 1, 1), guardian_consent=True)
    assert judge(facts=child, screening=screened()).status == Status.ALLOWED


@pytest.mark.parametrize(
    ("birth_date", "status"),
    [
        (datetime.date(2008, 11, 23), Status.ALLOWED),  # 18 today
        (datetime.date(2008, 11, 24), Status.NEEDS_CLEARANCE),  # 18 tomorrow
    ],
)
def test_eighteenth_birthday_ends_the_need_for_guardian_consent(birth_date, status):
    assert judge(facts=ClientFacts(birth_date=birth_date), screening=screened()).status == status


@pytest.mark.parametrize(
    ("birth_date", "status"),
    [
        (datetime.date(2025, 11, 23), Status.ALLOWED),  # one year old today
        (datetime.date(2025, 11, 24), Status.BLOCKED),
    ],
)
def test_below_the_minimum_age_blocks(birth_date, status):
    child = ClientFacts(birth_date=birth_date, guardian_consent=True)
    verdict = judge(facts=child, massage_type=CHILDREN, screening=screened())
    assert verdict.status == status


def test_minimum_age_reason():
    child = ClientFacts(birth_date=datetime.date(2026, 5, 1), guardian_consent=True)
    verdict = judge(facts=child, massage_type=CHILDREN, screening=screened())
    assert verdict.blockers == (rules.Concern("min-age", "below the minimum age for this massage"),)
    assert verdict.reasons == ("0 years old: below the minimum age for this massage (1).",)


def test_without_a_massage_type_only_general_rules_apply():
    verdict = judge(massage_type=None, screening=screened(finding("acute-back-pain")))
    assert verdict.status == Status.NEEDS_CLEARANCE
    assert judge(massage_type=None, screening=screened()).status == Status.ALLOWED


# --- Precedence and reporting everything ------------------------------------------


@pytest.mark.parametrize(
    ("findings", "massage_type", "days_ago", "status"),
    [
        ((), CLASSIC, 0, Status.ALLOWED),
        (("high-blood-pressure",), CLASSIC, 0, Status.ADAPTED),
        (("high-blood-pressure", "skin-disease"), CLASSIC, 0, Status.NEEDS_CLEARANCE),
        (("skin-disease",), CLASSIC, 120, Status.NEEDS_SCREENING),
        (("oncology", "skin-disease"), CLASSIC, 120, Status.BLOCKED),
        (("oncology", "high-blood-pressure"), THERAPEUTIC, 0, Status.BLOCKED),
    ],
)
def test_most_severe_status_wins(findings, massage_type, days_ago, status):
    verdict = judge(massage_type=massage_type, screening=screened(*map(finding, findings), days_ago=days_ago))
    assert verdict.status == status


def test_blocked_verdict_still_reports_adaptations_and_missing_clearances():
    verdict = judge(
        massage_type=THERAPEUTIC,
        screening=screened(finding("oncology"), finding("high-blood-pressure"), finding("skin-disease")),
    )
    assert verdict.status == Status.BLOCKED
    assert [b.code for b in verdict.blockers] == ["oncology"]
    assert [m.code for m in verdict.missing_clearances] == ["referral:therapeutic-back", "skin-disease"]
    assert [a.code for a in verdict.adaptations] == ["high-blood-pressure"]
    assert verdict.direction == "neck-down"


def test_unknown_code_falls_back_on_its_kind():
    added = FindingFacts(code="new-absolute", kind="absolute", name="Something new")
    assert judge(screening=screened(added)).status == Status.BLOCKED
    relative = FindingFacts(code="new-relative", kind="relative", name="Something else")
    assert judge(screening=screened(relative)).status == Status.NEEDS_CLEARANCE


def test_unknown_day_of_code_counts_only_on_its_day():
    added = FindingFacts(code="new-day-of", kind="absolute", name="Dizzy", is_day_of=True)
    assert judge(screening=screened(added, days_ago=1)).status == Status.ALLOWED
    assert judge(screening=screened(added)).status == Status.BLOCKED


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_a_label_and_a_badge(status):
    assert status.label
    assert status.badge


def test_status_severity_order():
    assert sorted(Status, key=lambda s: s.severity) == [
        Status.ALLOWED,
        Status.ADAPTED,
        Status.NEEDS_CLEARANCE,
        Status.NEEDS_SCREENING,
        Status.BLOCKED,
    ]


# --- Overrides lift the blocks they name, nothing else ---------------------------------------------


def test_overridden_lifts_the_named_block_and_keeps_the_adaptations():
    verdict = judge(screening=screened(finding("oncology"), finding("high-blood-pressure")))

    lifted = verdict.overridden({"oncology"})

    assert (verdict.status, lifted.status) == (Status.BLOCKED, Status.ADAPTED)
    assert lifted.blockers == ()
    assert lifted.overridden_blockers == (rules.Concern("oncology", "Oncology"),)
    assert lifted.reasons == ("High blood pressure: work from the neck down, not bottom-up.",)


def test_overridden_a_block_it_does_not_name_still_blocks():
    # Written for the oncology; a first-trimester pregnancy recorded since is another block.
    verdict = judge(screening=screened(finding("oncology"), finding("pregnancy", pregnancy_weeks=8)))

    lifted = verdict.overridden({"oncology"})

    assert lifted.status == Status.BLOCKED
    assert [b.code for b in lifted.blockers] == ["pregnancy"]
    assert lifted.reasons == ("Pregnancy: no massage in the first trimester.",)


def test_overridden_never_stands_in_for_a_missing_clearance_or_screening():
    blocked_and_skin = judge(screening=screened(finding("oncology"), finding("skin-disease")))
    blocked_and_stale = judge(screening=screened(finding("oncology"), days_ago=100))

    assert blocked_and_skin.overridden({"oncology"}).status == Status.NEEDS_CLEARANCE
    assert blocked_and_stale.overridden({"oncology"}).status == Status.NEEDS_SCREENING


def test_overridden_with_nothing_covered_is_the_same_verdict():
    verdict = judge(screening=screened(finding("oncology")))
    assert verdict.overridden(set()) is verdict
    assert verdict.overridden({"fever"}) is verdict


# --- Each adaptation once -------------------------------------------------------------------------


def test_each_adaptation_is_listed_once_however_many_findings_lead_to_it():
    allergic = ClientFacts(birth_date=ADULT.birth_date, allergens=("Rose",))
    screening = screened(finding("product-allergy", allergens=["rose"]), finding("high-blood-pressure"))

    verdict = judge(facts=allergic, screening=screening)

    reasons = [a.reason for a in verdict.adaptations]
    assert reasons == [
        "High blood pressure: work from the neck down, not bottom-up.",
        "Allergen rose is not to be used.",
    ]
    assert list(verdict.reasons) == reasons
    assert verdict.other_reasons == ()


# --- Notes beside findings ------------------------------------------------------------------------


def test_notes_typed_beside_findings_reach_the_verdict():
    skin = FindingFacts(code="skin-disease", kind="relative", name="Skin disease", note=" lower back, left, 3 cm ")
    plain = finding("high-blood-pressure")

    verdict = judge(screening=screened(skin, plain))

    assert verdict.finding_notes == (rules.FindingNote("skin-disease", "Skin disease", "lower back, left, 3 cm"),)


# --- A self-report adds, never removes ----------------------------------------------------------------


def test_combine_a_self_report_saying_no_keeps_what_staff_recorded():
    staff = screened(finding("oncology"), finding("product-allergy", allergens=["rose"]), days_ago=20)
    clean = screened(days_ago=2)

    combined = rules.combine(staff, [clean])

    assert [f.code for f in combined.findings] == ["oncology", "product-allergy"]
    assert combined.taken_on == DAY - datetime.timedelta(days=2)  # the client did answer then
    assert judge(screening=combined).status == Status.BLOCKED
    assert judge(screening=combined).allergens == ("rose",)


def test_combine_a_self_report_adds_findings_and_allergens():
    staff = screened(finding("product-allergy", allergens=["rose"]), days_ago=20)
    report = screened(finding("product-allergy", allergens=["Orange"]), finding("skin-disease"), days_ago=1)

    combined = rules.combine(staff, [report])

    assert judge(screening=combined).allergens == ("orange", "rose")
    assert judge(screening=combined).status == Status.NEEDS_CLEARANCE


def test_combine_without_a_staff_screening_takes_the_self_reports():
    report = screened(finding("kidney-disease"), days_ago=1)
    assert [f.code for f in rules.combine(None, [report]).findings] == ["kidney-disease"]
    assert rules.combine(None, []) is None


def test_combine_pregnancy_weeks_count_from_when_they_were_reported():
    staff = screened(finding("pregnancy", pregnancy_weeks=20), days_ago=70)  # week 30 by now
    report = screened(days_ago=7)

    verdict = judge(screening=rules.combine(staff, [report]))

    assert verdict.adaptations[0].reason == "Pregnancy, week 30: sacrum and coccyx avoided."


# --- The day's answers judged by the same rules ----------------------------------------------------


def test_with_day_of_acute_pain_needs_a_permission_before_a_classic_massage():
    pain = FindingFacts(code="acute-back-pain", kind="relative", name="Acute pain", is_day_of=True)
    screening = rules.with_day_of(screened(days_ago=10), [pain], DAY)

    assert judge(screening=screening).status == Status.NEEDS_CLEARANCE
    assert judge(screening=screening, clearances=[permission("acute-back-pain")]).status == Status.ALLOWED
    assert judge(screening=screening, massage_type=THERAPEUTIC, clearances=[referral(DAY, DAY)]).status == (
        Status.BLOCKED
    )
    assert rules.with_day_of(None, [pain], DAY) is None


# --- The stale-screening rule for courses ---------------------------------------------------------


def course_from(days_from_now: int, length: int = 10) -> rules.CourseFacts:
    return rules.CourseFacts(starts_on=DAY + datetime.timedelta(days=days_from_now), length_days=length)


def test_a_course_started_on_an_85_day_old_screening_stays_bookable_to_its_end():
    screening = screened(days_ago=85)
    for offset in range(10):  # sessions on screening days 85 to 94
        day = DAY + datetime.timedelta(days=offset)
        assert judge(day=day, screening=screening, course=course_from(0)).status == Status.ALLOWED, offset
    # The same day as a single session is too old.
    assert judge(day=DAY + datetime.timedelta(days=9), screening=screening).status == Status.NEEDS_SCREENING


def test_a_course_starts_only_on_a_screening_within_the_limit():
    verdict = judge(screening=screened(days_ago=91), course=course_from(0))
    assert verdict.status == Status.NEEDS_SCREENING
    assert verdict.reasons == ("The latest screening (24 August 2026) is older than 90 days.",)


def test_a_course_running_past_the_limit_by_more_than_its_length_needs_a_fresh_screening():
    screening = screened(days_ago=85)
    late = DAY + datetime.timedelta(days=16)  # screening day 101: past 90 + 10

    verdict = judge(day=late, screening=screening, course=course_from(0))

    assert verdict.status == Status.NEEDS_SCREENING
    assert verdict.reasons[0].startswith("The course runs past the 90-day limit of the screening of 30 August 2026")
