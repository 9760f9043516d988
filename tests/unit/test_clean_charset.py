"""workers.cleaning.charset: bytes of a fetched page to Unicode, and where the charset came from."""

from __future__ import annotations

import codecs

import pytest

from workers.cleaning.charset import charset_from_content_type, codec_name, decode_html

GERMAN = (
    "<html><head><title>Grüße aus Köln</title></head><body><p>Die Straße kostet 5 € "
    "für Müller und Söhne. Größere Änderungen über Öffnungszeiten folgen später.</p>"
    "</body></html>"
)
# Undeclared French prose with letters that cp1250 maps differently (è, \u2019 quote).
FRENCH = (
    "<html><head><title>Sécheresse</title></head><body><p>Dans l\u2019Aude, la sécheresse "
    "n\u2019est plus un épisode mais un état permanent. À la cave de Tuchan, la récolte a chuté "
    "de 45 % par rapport à la moyenne. Les vignerons arrachent leurs vignes, très inquiets "
    "pour l\u2019année prochaine. Où est passée la pluie ? Même les oliviers souffrent.</p>"
    "</body></html>"
)


def _with_meta(meta: str, body: str = "Grüße, 5 € für Müller") -> bytes:
    page = f"<html><head>{meta}<title>t</title></head><body><p>{body}</p></body></html>"
    return page.encode("cp1252")


# --- HTTP header ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html; charset=windows-1252",
        "text/html;charset=WINDOWS-1252",
        'text/html; charset="windows-1252"',
        "text/html; charset='cp1252'",
    ],
)
def test_charset_from_http_header(content_type: str) -> None:
    decoded = decode_html(GERMAN.encode("cp1252"), content_type)
    assert decoded.text == GERMAN
    assert decoded.encoding == "cp1252"
    assert decoded.source == "http-header"


def test_utf8_http_header() -> None:
    decoded = decode_html(GERMAN.encode("utf-8"), "text/html; charset=UTF-8")
    assert (decoded.text, decoded.encoding, decoded.source) == (GERMAN, "utf-8", "http-header")


def test_ascii_page_with_utf8_header_keeps_header_as_source() -> None:
    decoded = decode_html(b"<p>plain ascii</p>", "text/html; charset=utf-8")
    assert (decoded.text, decoded.encoding, decoded.source) == (
        "<p>plain ascii</p>",
        "utf-8",
        "http-header",
    )


# --- <meta> prescan --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="windows-1252">',
        "<meta charset=windows-1252>",
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
        "<META HTTP-EQUIV='content-type' CONTENT='text/html;charset=ISO-8859-1'>",
    ],
)
def test_charset_from_meta(meta: str) -> None:
    data = _with_meta(meta)
    decoded = decode_html(data, "text/html")
    assert decoded.text == data.decode("cp1252")
    assert "Grüße, 5 € für Müller" in decoded.text
    assert decoded.encoding == "cp1252"
    assert decoded.source == "meta"


def test_meta_used_when_header_has_no_charset_and_when_no_header() -> None:
    data = _with_meta('<meta charset="windows-1252">')
    assert decode_html(data, None).source == "meta"
    assert decode_html(data, "text/html").source == "meta"


def test_header_charset_that_cannot_decode_falls_through_to_meta() -> None:
    # A declared charset that does not decode the bytes is wrong: 0xfc is not UTF-8.
    data = _with_meta('<meta charset="windows-1252">')
    decoded = decode_html(data, "text/html; charset=utf-8")
    assert (decoded.encoding, decoded.source) == ("cp1252", "meta")
    assert "Grüße, 5 € für Müller" in decoded.text


def test_utf16_meta_label_in_ascii_page_means_utf8() -> None:
    data = b"<html><head><meta charset=utf-16></head><body><p>plain ascii</p></body></html>"
    decoded = decode_html(data, "text/html")
    assert (decoded.text, decoded.encoding, decoded.source) == (data.decode(), "utf-8", "meta")


# --- byte-order marks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + GERMAN.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF16_LE + GERMAN.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + GERMAN.encode("utf-16-be"), "utf-16"),
    ],
    ids=["utf-8", "utf-16-le", "utf-16-be"],
)
def test_bom_wins_over_declarations(data: bytes, encoding: str) -> None:
    decoded = decode_html(data, "text/html; charset=iso-8859-1")
    assert decoded.text == GERMAN  # no BOM character left in the text
    assert decoded.encoding == encoding
    assert decoded.source == "bom"


# --- WHATWG label aliases ----------------------------------------------------------------------


@pytest.mark.parametrize("label", ["iso-8859-1", "ISO-8859-1", "latin1", "l1", "us-ascii", "ascii"])
def test_latin1_and_ascii_labels_decode_as_cp1252(label: str) -> None:
    decoded = decode_html(b"<p>price \x80 5, \x93quoted\x94</p>", f"text/html; charset={label}")
    assert decoded.text == "<p>price € 5, “quoted”</p>"
    assert decoded.encoding == "cp1252"
    assert decoded.source == "http-header"


def test_latin1_meta_label_decodes_as_cp1252() -> None:
    data = b'<html><head><meta charset="iso-8859-1"></head><body>\x80 9</body></html>'
    decoded = decode_html(data, "text/html")
    assert "€ 9" in decoded.text
    assert (decoded.encoding, decoded.source) == ("cp1252", "meta")


# --- mislabelled and undeclared pages ---------------------------------------------------------


def test_header_latin1_over_valid_utf8_is_utf8_detected() -> None:
    data = GERMAN.encode("utf-8")
    decoded = decode_html(data, "text/html; charset=iso-8859-1")
    assert decoded.text == GERMAN  # not "GrÃ¼ÃŸe"
    assert decoded.encoding == "utf-8"
    assert decoded.source == "detected"


def test_meta_latin1_over_valid_utf8_is_utf8_detected() -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Grüße €</p></body></html>'
    decoded = decode_html(page.encode("utf-8"), "text/html")
    assert (decoded.text, decoded.encoding, decoded.source) == (page, "utf-8", "detected")


def test_undeclared_cp1252_is_detected() -> None:
    data = FRENCH.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    decoded = decode_html(data, "text/html")
    assert decoded.text == FRENCH
    assert decoded.encoding == "cp1252"
    assert decoded.source == "detected"


def test_undeclared_utf8_is_detected() -> None:
    decoded = decode_html(GERMAN.encode("utf-8"))
    assert (decoded.text, decoded.encoding, decoded.source) == (GERMAN, "utf-8", "detected")


def test_undeclared_ascii_is_utf8_detected() -> None:
    decoded = decode_html(b"<p>plain ascii</p>")
    assert (decoded.text, decoded.encoding, decoded.source) == (
        "<p>plain ascii</p>",
        "utf-8",
        "detected",
    )


@pytest.mark.parametrize("label", ["x-no-such-charset", "rot13", "utf-99"])
def test_unknown_header_label_falls_through_to_meta(label: str) -> None:
    data = _with_meta('<meta charset="windows-1252">')
    decoded = decode_html(data, f"text/html; charset={label}")
    assert (decoded.encoding, decoded.source) == ("cp1252", "meta")
    assert "Grüße, 5 € für Müller" in decoded.text


def test_unknown_labels_everywhere_fall_through_to_detection() -> None:
    page = FRENCH.replace("<head>", '<head><meta charset="klingon-8">')
    decoded = decode_html(page.encode("cp1252"), "text/html; charset=x-no-such-charset")
    assert (decoded.text, decoded.encoding, decoded.source) == (page, "cp1252", "detected")


# --- the label helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=UTF-8", "UTF-8"),
        ('text/html; charset="windows-1252"', "windows-1252"),
        ("text/html;charset=iso-8859-1; foo=bar", "iso-8859-1"),
        ("text/html", None),
        ("", None),
        (None, None),
    ],
)
def test_charset_from_content_type(content_type: str | None, charset: str | None) -> None:
    assert charset_from_content_type(content_type) == charset


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
        ("windows-1252", "cp1252"),
        ("ISO-8859-1", "cp1252"),
        ("latin-1", "cp1252"),
        ("US-ASCII", "cp1252"),
        ("iso-8859-15", "iso8859-15"),
        ("shift_jis", "shift_jis"),
        ('"utf-8"', "utf-8"),
        ("no-such-charset", None),
        ("", None),
        (None, None),
    ],
)
def test_codec_name(label: str | None, name: str | None) -> None:
    assert codec_name(label) == name
