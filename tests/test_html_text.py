"""HTML bodies from help-desk exports and e-mail become readable plain text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent_tui.domain.html_text import html_to_text, looks_like_html, plain_body

ARTICLE = (
    '<h2>Reset your password</h2><p>Open <a href="https://app.example.com/reset">the reset '
    'page</a>&nbsp;and enter your e-mail.</p><ol><li>Check your inbox</li><li>Click the link'
    '<ul><li>valid for 1 hour</li></ul></li><li>Choose a new one</li></ol>'
    '<p>Still stuck?<br>Write to <a href="mailto:help@example.com">help@example.com</a>.</p>'
    '<script>alert("x")</script><style>p { color: red }</style><!-- internal -->'
)


def test_an_article_keeps_its_paragraphs_lists_and_link_targets() -> None:
    assert html_to_text(ARTICLE) == (
        "Reset your password\n\n"
        "Open the reset page (https://app.example.com/reset) and enter your e-mail.\n\n"
        "1. Check your inbox\n2. Click the link\n  - valid for 1 hour\n3. Choose a new one\n\n"
        "Still stuck?\nWrite to help@example.com.")


def test_tables_images_entities_and_pre_blocks() -> None:
    html = ('<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Basic</td><td>&pound;5 '
            '&amp; up</td></tr></table><img src="s.png" alt="Settings  screen"/>'
            '<pre>  indented\n  code</pre><p>退款&#x3001;换货</p>')
    assert html_to_text(html) == ("Plan | Price\nBasic | £5 & up\n\n[image: Settings screen]"
                                  "\n\n  indented\n  code\n\n退款、换货")


def test_prose_with_angle_brackets_is_not_taken_for_html() -> None:
    for text in ("I <3 this", "if a < b and b > c", "<not a tag>", "2 <= 3",
                 "Reply above this line <<<", "<jane@example.com> wrote:"):
        assert not looks_like_html(text)
        assert plain_body(text) == text
    assert looks_like_html("Hello<br>there") and looks_like_html("<P CLASS='x'>Hi</P>")


@given(st.text(alphabet=st.characters(blacklist_characters="<")))
def test_text_without_a_tag_is_returned_unchanged(text: str) -> None:
    assert plain_body(text) == text


def test_broken_markup_still_gives_its_words() -> None:
    assert html_to_text("<p>Unclosed <b>bold <i>and <a href='x'>link") == "Unclosed bold and link"
    assert html_to_text("<div><p>One</div>Two</p>") == "One\n\nTwo"
