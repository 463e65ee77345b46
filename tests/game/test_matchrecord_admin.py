"""The admin's match records: each links to its replay, exports as a file, verifies, and a
file imports (a bad one is refused on the form, with what is wrong)."""

import gzip

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from game.models import MatchLogChunk
from game.records import matchfile
from lobby.models import Match

from .synthetic import record_match

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    User.objects.create_superuser("root", "root@example.com", "pw")
    client.login(username="root", password="pw")
    return client


def test_the_list_links_each_match_to_its_replay_and_its_file_and_a_file_imports_back(staff):
    match = record_match("kept")
    page = staff.get(reverse("admin:game_matchrecord_changelist")).content.decode()
    assert reverse("lobby:replay", args=[match.pk]) in page
    export = reverse("admin:game_matchrecord_export", args=[match.pk])
    assert export in page and reverse("admin:game_matchrecord_import") in page

    response = staff.get(export)
    assert response["Content-Disposition"].endswith(f'match-{match.pk}.json.gz"')
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    data = matchfile.loads(raw)
    assert (
        data.match.id == match.pk
        and len(data.log.chunks) == MatchLogChunk.objects.filter(match=match).count()
    )

    upload = SimpleUploadedFile("m.json.gz", raw, content_type="application/gzip")
    done = staff.post(reverse("admin:game_matchrecord_import"), {"file": upload}, follow=True)
    assert "Imported kept; replay ok" in done.content.decode()
    assert Match.objects.filter(name="kept").count() == 2

    verified = staff.post(
        reverse("admin:game_matchrecord_changelist"),
        {"action": "verify", "_selected_action": [str(m.pk) for m in Match.objects.filter(name="kept")]},
        follow=True,
    ).content.decode()
    assert verified.count(": ok: ") == 2, verified


def test_a_bad_file_is_refused_on_the_import_form_with_what_is_wrong(staff):
    upload = SimpleUploadedFile("m.json.gz", gzip.compress(b'{"format": "cubearena-match", "version": 7}'))
    response = staff.post(reverse("admin:game_matchrecord_import"), {"file": upload})
    assert response.status_code == 200 and "match file version 7" in response.content.decode()
    assert not Match.objects.exists()
