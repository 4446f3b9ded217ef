"""Server paths are cut to file names in everything sent to a client."""

from engines.errors import InputUnreadable
from engines.jobs.runner import error_record
from engines.redaction import redact_paths


def test_absolute_paths_become_their_file_names():
    assert redact_paths("Error opening input file /tmp/cutlite-upload-x1/upload.mp4.") == \
        "Error opening input file .../upload.mp4."
    assert redact_paths("'/home/u/.cutlite/objects/tenants/acme/dev/a/source.mp4': No such file") == \
        "'.../source.mp4': No such file"


def test_rates_object_keys_and_urls_are_left_alone():
    text = "30000/1001 fps, key tenants/acme/dev/media_v2/x/source.mp4, see https://ffmpeg.org/a/b"
    assert redact_paths(text) == text


def test_a_job_error_record_keeps_no_server_path():
    exc = InputUnreadable("ffmpeg failed during chunk (exit 1): /srv/store/objects/tenants/a/dev/s.mp4: "
                          "Invalid data", stage="chunk", argv=["ffmpeg", "-i", "/srv/x.mp4"], path="/srv/x.mp4",
                          stderr_tail="[in#0] Error opening input file /srv/store/objects/s.mp4.\nbye")
    record = error_record(exc)
    assert "/srv" not in str(record) and "argv" not in record["context"] and "path" not in record["context"]
    assert record["context"]["stderr_tail"] == "[in#0] Error opening input file .../s.mp4.\nbye"
