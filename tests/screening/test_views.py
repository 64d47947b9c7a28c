import datetime
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from parlor.models import MassageType
from screening import selectors
from screening.models import Clearance, Contraindication, Screening
from screening.panels import client_panel
from tests.factories import ClientFactory
from tests.screening.conftest import make_clearance

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def answers(key=None, yes=(), **extra):
    """Every standing question answered (no when not in `yes`); the day-of ones are asked at check-in."""
    data = {"submission_key": str(key or uuid.uuid4()), "notes": ""}
    for entry in selectors.questionnaire():
        if entry.is_day_of:
            continue
        data[f"q_{entry.code}"] = "yes" if entry.code in yes else "no"
        data[f"note_{entry.code}"] = ""
    data.update(extra)
    return data


def create_url(client):
    return reverse("screening:screening-create", args=[client.pk])


# --- The questionnaire ------------------------------------------------------------


DAY_OF_QUESTIONS = [
    "Do you have a raised temperature today?",
    "Have you had alcohol or other substances today?",
    "Are you menstruating today?",
    "Do you have acute back pain today?",
]


def test_questionnaire_asks_every_active_standing_entry_and_no_day_of_question(reception_client, client_record):
    response = reception_client.get(create_url(client_record))
    assert response.status_code == 200
    page = response.content.decode()
    for entry in selectors.questionnaire():
        assert (entry.question_en in page) is (not entry.is_day_of)
    # The day-of questions are asked at check-in, on the day.
    for question in DAY_OF_QUESTIONS:
        assert question not in page
    assert "Are you pregnant? If so, in which week?" in page  # a woman of 41
    form = response.context["form"]
    assert isinstance(form.initial["submission_key"], uuid.UUID)
    assert page.count('name="submission_key"') == 1


def test_questionnaire_starts_with_every_question_unanswered(reception_client, client_record):
    page = reception_client.get(create_url(client_record)).content.decode()
    assert 'name="q_oncology"' in page
    assert "checked" not in page


def test_questionnaire_with_a_question_unanswered_refuses_to_save(reception_client, client_record):
    data = answers()
    del data["q_oncology"]

    response = reception_client.post(create_url(client_record), data)

    assert response.status_code == 200
    assert response.context["form"].errors == {"q_oncology": ["Answer yes or no."]}
    assert response.context["form"]["q_kidney-disease"].value() == "no"
    assert Screening.objects.count() == 0


def test_questionnaire_posted_empty_records_nothing(reception_client, client_record):
    response = reception_client.post(create_url(client_record), {"submission_key": str(uuid.uuid4())})

    assert response.status_code == 200
    assert "q_oncology" in response.context["form"].errors
    assert Screening.objects.count() == 0


@pytest.mark.parametrize(
    ("sex", "birth_date", "asked"),
    [
        ("female", datetime.date(1990, 1, 1), True),
        ("male", datetime.date(1990, 1, 1), False),
        ("female", datetime.date(1960, 1, 1), False),  # 55 or older
    ],
)
def test_questionnaire_asks_about_pregnancy_only_women_below_the_age_limit(
    reception_client, client_record, sex, birth_date, asked
):
    client_record.sex, client_record.birth_date = sex, birth_date
    client_record.save()

    page = reception_client.get(create_url(client_record)).content.decode()

    assert ('name="q_pregnancy"' in page) is asked


def test_questionnaire_age_limit_is_the_managers_setting(reception_client, client_record):
    from screening.models import QuestionnaireSettings

    client_record.birth_date = datetime.date(1960, 1, 1)
    client_record.save()
    QuestionnaireSettings.objects.update_or_create(pk=1, defaults={"female_questions_until_age": 70})

    page = reception_client.get(create_url(client_record)).content.decode()

    assert 'name="q_pregnancy"' in page


def test_questionnaire_leaves_out_an_inactive_entry(reception_client, client_record):
    Contraindication.objects.filter(code="liver-disease").update(is_active=False)
    page = reception_client.get(create_url(client_record)).content.decode()
    assert "Do you have a liver disease?" not in page


def test_receptionist_records_a_screening_and_returns_to_the_client(reception_client, receptionist, client_record):
    data = answers(
        yes=("pregnancy", "product-allergy", "high-blood-pressure"),
        pregnancy_weeks="20",
        allergens="Rose, orange",
        **{"note_high-blood-pressure": "takes pills"},
    )
    response = reception_client.post(create_url(client_record), data)
    screening = Screening.objects.get()
    assert response.status_code == 302
    assert response.url == client_record.get_absolute_url()
    assert screening.taken_by == receptionist
    assert screening.submission_key == uuid.UUID(data["submission_key"])
    findings = {f.contraindication.code: (f.note, f.details) for f in screening.findings.all()}
    assert findings == {
        "high-blood-pressure": ("takes pills", {}),
        "pregnancy": ("", {"pregnancy_weeks": 20}),
        "product-allergy": ("", {"allergens": ["rose", "orange"]}),
    }
    assert screening.answers["questions"]["oncology"] == {
        "question": "Do you have cancer or a tumour?",
        "answer": False,
        "note": "",
        "day_of": False,
    }
    assert "fever" not in screening.answers["questions"]


def test_masseur_lands_on_the_screening_after_recording(masseur_client, client_record, booked):
    response = masseur_client.post(create_url(client_record), answers())
    assert response.url == Screening.objects.get().get_absolute_url()


def test_double_submitted_screening_is_recorded_once(reception_client, client_record):
    data = answers(yes=("kidney-disease",))
    first = reception_client.post(create_url(client_record), data)
    second = reception_client.post(create_url(client_record), data)
    assert (first.status_code, second.status_code) == (302, 302)
    assert Screening.objects.count() == 1


@pytest.mark.parametrize("weeks", ["0", "43", "-3", "twenty"])
def test_pregnancy_weeks_outside_1_to_42_are_refused_beside_the_field(reception_client, client_record, weeks):
    response = reception_client.post(create_url(client_record), answers(yes=("pregnancy",), pregnancy_weeks=weeks))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["pregnancy_weeks"]
    assert Screening.objects.count() == 0


def test_pregnancy_without_weeks_is_recorded_without_them(reception_client, client_record):
    reception_client.post(create_url(client_record), answers(yes=("pregnancy",)))
    assert Screening.objects.get().findings.get().details == {}


def test_product_allergy_needs_the_allergen_named(reception_client, client_record):
    response = reception_client.post(create_url(client_record), answers(yes=("product-allergy",)))
    assert response.status_code == 200
    assert response.context["form"].errors == {"allergens": ["Name the oil, cream or aroma the client is allergic to."]}


def test_garbled_questionnaire_is_refused_not_a_500(reception_client, client_record):
    response = reception_client.post(create_url(client_record), {"submission_key": "not-a-uuid", "q_fracture": "maybe"})
    assert response.status_code == 200
    assert {"submission_key", "q_fracture", "q_oncology"} <= set(response.context["form"].errors)


def test_screening_for_an_unknown_client_is_404(reception_client):
    assert reception_client.get(reverse("screening:screening-create", args=[999999])).status_code == 404


def test_screening_create_needs_the_add_permission(client, client_record):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(create_url(client_record)).status_code == 403


# --- History and detail ------------------------------------------------------------


def test_masseur_sees_the_history_with_findings(masseur_client, record, client_record, booked):
    record(client_record, "kidney-disease", taken_at=datetime.datetime(2026, 10, 1, 9, tzinfo=UTC))
    record(client_record, taken_at=datetime.datetime(2026, 11, 1, 9, tzinfo=UTC))
    response = masseur_client.get(reverse("screening:screening-list", args=[client_record.pk]))
    assert response.status_code == 200
    assert [s.taken_at.month for s in response.context["screenings"]] == [11, 10]
    assert "Kidney disease" in response.content.decode()


def test_screening_detail_highlights_what_changed(masseur_client, record, client_record, booked):
    record(
        client_record,
        "kidney-disease",
        "pregnancy",
        taken_at=datetime.datetime(2026, 10, 1, 9, tzinfo=UTC),
        details={"pregnancy": {"pregnancy_weeks": 10}},
    )
    newer = record(
        client_record,
        "pregnancy",
        "oncology",
        taken_at=datetime.datetime(2026, 11, 1, 9, tzinfo=UTC),
        details={"pregnancy": {"pregnancy_weeks": 14}},
    )
    response = masseur_client.get(newer.get_absolute_url())
    assert response.status_code == 200
    assert (response.context["added"], response.context["removed"], response.context["changed"]) == (
        {"oncology"},
        {"kidney-disease"},
        {"pregnancy"},
    )
    page = response.content.decode()
    assert 'list-group-item-danger" data-code="oncology"' in page
    assert 'list-group-item-success" data-code="kidney-disease"' in page
    assert 'list-group-item-warning" data-code="pregnancy"' in page
    assert "worse than before" in page


def test_first_screening_detail_says_so(masseur_client, record, client_record, booked):
    screening = record(client_record, "kidney-disease")
    page = masseur_client.get(screening.get_absolute_url()).content.decode()
    assert "This is the client's first screening." in page


def test_unknown_screening_is_404(masseur_client):
    assert masseur_client.get(reverse("screening:screening-detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("count", [2, 30])
def test_history_page_queries_do_not_grow_with_screenings(
    masseur_client, record, client_record, booked, count, django_assert_max_num_queries
):
    for day in range(count):
        record(
            client_record,
            "kidney-disease",
            "heart-disease",
            taken_at=datetime.datetime(2026, 1, 1, tzinfo=UTC) + datetime.timedelta(days=day),
        )
    # Eight reads and the access trail's entry.
    with django_assert_max_num_queries(9):
        response = masseur_client.get(reverse("screening:screening-list", args=[client_record.pk]))
    assert len(response.context["screenings"]) == count


# --- Who may see what ------------------------------------------------------------------


@pytest.fixture
def sensitive(record, client_record):
    """A client whose record holds health words a receptionist must never see."""
    screening = record(client_record, "high-blood-pressure", notes={"high-blood-pressure": "dizzy after stairs"})
    clearance = make_clearance(
        client_record,
        kind="referral",
        covers_massage_type=MassageType.objects.get(code="therapeutic-back"),
        scan=SimpleUploadedFile("x.pdf", PDF),
        notes="scoliosis grade two",
    )
    return screening, clearance


@pytest.mark.parametrize(
    "url_name",
    ["screening:screening-list", "screening:screening-detail", "screening:clearance-scan"],
)
def test_receptionist_is_refused_health_pages_by_direct_url(reception_client, sensitive, client_record, url_name):
    screening, clearance = sensitive
    arg = {
        "screening:screening-list": client_record.pk,
        "screening:screening-detail": screening.pk,
        "screening:clearance-scan": clearance.pk,
    }[url_name]
    assert reception_client.get(reverse(url_name, args=[arg])).status_code == 403


@pytest.mark.parametrize("fixture", ["masseur_client", "manager_client"])
def test_masseur_and_manager_reach_health_pages(request, fixture, sensitive, client_record, booked):
    http = request.getfixturevalue(fixture)
    screening, clearance = sensitive
    assert http.get(reverse("screening:screening-list", args=[client_record.pk])).status_code == 200
    assert http.get(screening.get_absolute_url()).status_code == 200
    scan = http.get(reverse("screening:clearance-scan", args=[clearance.pk]))
    assert scan.status_code == 200
    assert b"".join(scan.streaming_content) == PDF
    assert scan["Content-Type"] == "application/pdf"


def test_receptionist_sees_clearance_metadata_but_no_scan_nor_notes(reception_client, sensitive, client_record):
    response = reception_client.get(reverse("screening:clearance-list", args=[client_record.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Д-р Савченко" in page
    assert "Therapeutic back massage" in page
    assert "scoliosis grade two" not in page
    assert reverse("screening:clearance-scan", args=[sensitive[1].pk]) not in page


def test_masseur_sees_the_scan_link_and_notes(masseur_client, sensitive, client_record, booked):
    page = masseur_client.get(reverse("screening:clearance-list", args=[client_record.pk])).content.decode()
    assert reverse("screening:clearance-scan", args=[sensitive[1].pk]) in page
    assert "scoliosis grade two" in page


def test_scan_is_never_a_public_media_url(masseur_client, sensitive, client_record, booked):
    page = masseur_client.get(reverse("screening:clearance-list", args=[client_record.pk])).content.decode()
    assert "/media/" not in page


def test_clearance_without_scan_has_no_download(masseur_client, client_record, booked):
    clearance = make_clearance(client_record, covers_massage_type=MassageType.objects.get(code="lumbar"))
    assert masseur_client.get(reverse("screening:clearance-scan", args=[clearance.pk])).status_code == 404


def _panel_html(user, client):
    request = RequestFactory().get("/")
    request.user = user
    result = client_panel(request, client)
    if result is None:
        return None
    template_name, context = result
    return render_to_string(template_name, {"client": client, **context}, request=request)


HEALTH_WORDS = ["High blood pressure", "dizzy after stairs", "neck down", "Never worked"]
# What reception must not see: the screening's notes, its history, the areas list.
RECEPTION_HIDDEN = ["dizzy after stairs", "Never worked", 'data-testid="screening-history"']


def test_receptionist_panel_shows_the_verdict_status_and_no_health_details(receptionist, sensitive, client_record):
    html = _panel_html(receptionist, client_record)
    assert 'data-status="adapted"' in html
    assert "allowed with adaptations" in html
    assert "Bookable; the masseur adapts the technique." in html
    # Issue 11 (need-to-know): reception no longer sees the adaptation itself, only the status.
    assert "High blood pressure" not in html
    assert "neck down" not in html
    for word in RECEPTION_HIDDEN:
        assert word not in html
    assert sensitive[0].get_absolute_url() not in html
    assert reverse("screening:screening-create", args=[client_record.pk]) in html
    assert "Д-р Савченко" in html


@pytest.mark.parametrize("who", ["masseur_user", "manager"])
def test_masseur_and_manager_panel_shows_the_details(request, who, sensitive, client_record, booked):
    html = _panel_html(request.getfixturevalue(who), client_record)
    assert 'data-status="adapted"' in html
    for word in HEALTH_WORDS[:1] + ["from the neck down"]:
        assert word in html
    assert sensitive[0].get_absolute_url() in html


def test_receptionist_pages_never_show_findings_or_notes(reception_client, sensitive, client_record):
    for url in (
        reverse("screening:clearance-list", args=[client_record.pk]),
        reverse("screening:screening-create", args=[client_record.pk]),
    ):
        page = reception_client.get(url).content.decode()
        assert "dizzy after stairs" not in page


def test_panel_is_hidden_from_a_user_without_screening_permissions(client_record):
    from tests.factories import UserFactory

    assert _panel_html(UserFactory(), client_record) is None


@pytest.mark.parametrize("count", [1, 25])
def test_panel_queries_do_not_grow_with_screenings(
    masseur_user, record, client_record, booked, count, django_assert_max_num_queries
):
    for day in range(count):
        record(
            client_record,
            "kidney-disease",
            taken_at=datetime.datetime(2026, 1, 1, tzinfo=UTC) + datetime.timedelta(days=day),
        )
        make_clearance(client_record, covers_massage_type=MassageType.objects.get(code="lumbar"))
    # Two for permissions, one for "is this client booked with this masseur", then the panel's own.
    with django_assert_max_num_queries(10):
        html = _panel_html(masseur_user, client_record)
    assert html.count('data-testid="screening-history"') == 1


def test_panel_is_registered_with_the_client_page():
    from clients import panels

    assert client_panel in panels.registered()


def test_can_view_health_record_by_role(receptionist, masseur_user, manager, client_record, booked):
    from screening.access import can_view_health_record

    assert [can_view_health_record(u, client_record) for u in (receptionist, masseur_user, manager)] == [
        False,
        True,
        True,
    ]


# --- Clearances -------------------------------------------------------------------------


def clearance_data(**overrides):
    data = {
        "kind": "referral",
        "doctor_name": "Д-р Литвиненко",
        "issued_on": "2026-11-01",
        "valid_until": "2026-12-01",
        "covers_massage_type": MassageType.objects.get(code="therapeutic-back").pk,
        "covers_contraindication": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_receptionist_adds_a_clearance_with_a_scan(reception_client, receptionist, client_record):
    response = reception_client.post(
        reverse("screening:clearance-create", args=[client_record.pk]),
        clearance_data(scan=SimpleUploadedFile("referral.pdf", PDF, content_type="application/pdf")),
    )
    clearance = Clearance.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("screening:clearance-list", args=[client_record.pk])
    assert (clearance.doctor_name, clearance.created_by, clearance.scan.name.startswith("clearances/")) == (
        "Д-р Литвиненко",
        receptionist,
        True,
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"scan": SimpleUploadedFile("referral.pdf", b"<html>not a pdf</html>")},
            "scan",
            "Only a PDF, JPEG or PNG scan is accepted.",
        ),
        (
            {"scan": SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024))},
            "scan",
            "The scan is larger than 10.0\xa0MB; send a smaller file.",
        ),
        ({"valid_until": "2026-10-31"}, "valid_until", "It cannot end before it was issued."),
        ({"doctor_name": ""}, "doctor_name", "This field is required."),
        (
            {"covers_massage_type": ""},
            "covers_contraindication",
            "Say what it covers: a contraindication, a massage type or both.",
        ),
        ({"issued_on": "31.02.2026"}, "issued_on", "Enter a valid date."),
    ],
)
def test_bad_clearance_is_refused_beside_the_field(reception_client, client_record, overrides, field, message):
    response = reception_client.post(
        reverse("screening:clearance-create", args=[client_record.pk]), clearance_data(**overrides)
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert Clearance.objects.count() == 0


def test_clearance_list_needs_the_view_permission(client, client_record):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(reverse("screening:clearance-list", args=[client_record.pk])).status_code == 403


# --- The catalogue ------------------------------------------------------------------------


def test_manager_edits_a_catalogue_entry(manager_client):
    fever = Contraindication.objects.get(code="fever")
    data = {
        "code": "renamed",
        "kind": "relative",
        "name_uk": fever.name_uk,
        "name_en": "Temperature above 37.5",
        "question_uk": fever.question_uk,
        "question_en": "Is your temperature above 37.5 today?",
        "guidance_uk": "",
        "guidance_en": "",
        "is_day_of": "on",
        "is_active": "on",
        "ordering": 5,
    }
    response = manager_client.post(fever.get_absolute_url(), data)
    fever.refresh_from_db()
    assert response.status_code == 302
    # Code and kind tie the entry to its rule; the form does not change them.
    assert (fever.code, fever.kind, fever.name_en, fever.ordering) == ("fever", "absolute", "Temperature above 37.5", 5)


def test_manager_adds_a_catalogue_entry(manager_client):
    response = manager_client.post(
        reverse("screening:contraindication-add"),
        {
            "code": "varicose-veins",
            "kind": "relative",
            "name_uk": "Варикоз",
            "name_en": "Varicose veins",
            "ordering": 300,
        },
    )
    assert response.status_code == 302
    assert Contraindication.objects.get(code="varicose-veins").name_en == "Varicose veins"


def test_catalogue_list_for_the_manager_and_masseur_only(manager_client, masseur_client, reception_client):
    url = reverse("screening:contraindication-list")
    assert manager_client.get(url).status_code == 200
    assert masseur_client.get(url).status_code == 200
    assert reception_client.get(url).status_code == 403


def test_masseur_cannot_edit_the_catalogue(masseur_client):
    fever = Contraindication.objects.get(code="fever")
    assert masseur_client.get(fever.get_absolute_url()).status_code == 403


def test_navigation_links_the_catalogue_for_those_who_may_see_it(manager_client, reception_client):
    url = reverse("screening:contraindication-list")
    assert url in manager_client.get("/").content.decode()
    assert url not in reception_client.get("/").content.decode()


def test_pages_render_in_ukrainian(masseur_client, record, client_record, booked, settings):
    from django.utils import translation

    screening = record(client_record, "kidney-disease")
    with translation.override("uk"):
        response = masseur_client.get(screening.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 200


def test_other_client_keys_do_not_collide(reception_client, client_record):
    other = ClientFactory()
    data = answers()
    reception_client.post(create_url(client_record), data)
    response = reception_client.post(create_url(other), data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This form was already used for another client; open it again."
    ]


def test_client_page_shows_the_panel_by_role(reception_client, masseur_client, sensitive, client_record, booked):
    reception_page = reception_client.get(client_record.get_absolute_url()).content.decode()
    masseur_page = masseur_client.get(client_record.get_absolute_url()).content.decode()
    assert 'data-testid="screening-panel"' in reception_page
    assert 'data-status="adapted"' in reception_page
    for word in RECEPTION_HIDDEN:
        assert word not in reception_page
    assert "Never worked" in masseur_page


def test_clearance_issued_in_the_future_is_refused_beside_the_date(reception_client, client_record):
    import time_machine

    with time_machine.travel(datetime.datetime(2026, 11, 10, 12, 0, tzinfo=datetime.UTC), tick=False):
        response = reception_client.post(
            reverse("screening:clearance-create", args=[client_record.pk]),
            clearance_data(issued_on="2026-11-11", valid_until="2026-12-31"),
        )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "issued_on": ["A clearance cannot be issued in the future: check the date on the paper."]
    }
    assert 'value="2026-11-11"' in response.content.decode()
    assert Clearance.objects.count() == 0


def test_questionnaire_shown_again_with_errors_keeps_its_submission_key(reception_client, client_record):
    data = answers()
    del data["q_oncology"]

    page = reception_client.post(create_url(client_record), data).content.decode()

    assert re.search(rf'name="submission_key"\s+value="{data["submission_key"]}"', page)
