"""Development email: each message also as a readable .eml file named by its decoded subject."""

import datetime
import email
from email import policy
from pathlib import Path

from django.core.mail import EmailMessage, get_connection

from parlor.mail import eml_file_name

ROOT = Path(__file__).resolve().parents[2]


def test_eml_backend_writes_each_message_as_a_file_named_by_its_decoded_subject(tmp_path):
    connection = get_connection("parlor.mail.EmlFileBackend", file_path=str(tmp_path))
    messages = [
        EmailMessage("Нагадування: масаж 1 березня 2027 о 10:00", "Шановна Олено,", "from@example.com", ["a@b.c"]),
        EmailMessage("Your course / is booked", "Dear Oksana,", "from@example.com", ["a@b.c"]),
    ]

    assert connection.send_messages(messages) == 2

    emls = sorted(tmp_path.glob("*.eml"), key=lambda p: p.name.split("-")[2])
    assert [p.name.split("-", 3)[3] for p in emls] == [
        "Нагадування-масаж-1-березня-2027-о-10-00.eml",
        "Your-course-is-booked.eml",
    ]
    parsed = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    assert str(parsed["Subject"]).strip() == "Нагадування: масаж 1 березня 2027 о 10:00"
    assert parsed.get_content().strip() == "Шановна Олено,"
    # Django's own .log file is still written beside them.
    assert len(list(tmp_path.glob("*.log"))) == 1


def test_eml_file_name_is_safe_and_never_empty():
    at = datetime.datetime(2026, 12, 2, 15, 40, 12)
    assert eml_file_name("../../etc/passwd", at=at, number="7.1") == "20261202-154012-7.1-etc-passwd.eml"
    assert eml_file_name("", at=at, number="7.1") == "20261202-154012-7.1-no-subject.eml"


def test_development_sends_mail_through_the_eml_backend_and_make_run_says_where():
    settings_text = (ROOT / "parlor" / "settings.py").read_text()
    assert 'env_str("EMAIL_BACKEND", "parlor.mail.EmlFileBackend")' in settings_text
    banner = (ROOT / "scripts" / "run.sh").read_text()
    assert 'MAIL_DIR="${EMAIL_FILE_PATH:-$ROOT/var/mail}"' in banner
    assert "one .eml file each" in banner and "$MAIL_DIR/" in banner
