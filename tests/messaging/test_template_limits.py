"""Every render of a user-written template is bounded: loop turns, range sizes, text and list
sizes, numbers, calls, output and time. A template past a bound fails at once with a message a
finance controller understands, naming the field; ordinary templates render as before."""

from __future__ import annotations

import time

import pytest

from relance.messaging import sandbox
from relance.messaging.sandbox import LimitExceeded, RenderError, render
from relance.services.dunning.messages import render_texts

INVOICES = {
    "invoices": [
        {"number": f"F-{n}", "amount_due": f"{n},00 €", "due_date": "1 mars 2026"}
        for n in range(1, 41)
    ],
    "customer": {"name": "Dupont"},
}


def _refused(source: str, values: dict | None = None) -> LimitExceeded:
    start = time.monotonic()
    with pytest.raises(LimitExceeded) as caught:
        render(source, values or {})
    assert time.monotonic() - start < 3, "a bound must stop the render quickly"
    return caught.value


def test_nested_ranges_of_the_issue_end_at_once() -> None:
    bomb = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
    assert _refused(bomb).limit in (sandbox.RANGE, sandbox.LOOPS)


def test_loop_turns_are_counted_across_nested_loops() -> None:
    source = "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}"
    assert _refused(source).limit == sandbox.LOOPS


def test_loops_over_unsized_iterables_are_counted_too() -> None:
    source = (
        "{% for i in range(1000) %}{% for j in range(1000)|map('int') %}{% endfor %}{% endfor %}"
    )
    assert _refused(source).limit == sandbox.LOOPS


def test_a_recursive_loop_is_counted() -> None:
    source = "{% for x in [1, 1] recursive %}{{ loop([1, 1, 1]) if loop.depth < 40 }}{% endfor %}"
    assert _refused(source).limit in (sandbox.LOOPS, sandbox.CALLS)


def test_a_long_range_is_refused() -> None:
    assert _refused("{% for i in range(100000) %}{% endfor %}").limit == sandbox.RANGE
    assert render("{% for i in range(3) %}{{ i }}{% endfor %}", {}) == "012"


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 10**8 }}",
        "{{ 10**8 * 'x' }}",
        "{{ [1] * 10**8 }}",
        "{{ ('x' * 1000) * 1000 }}",
    ],
)
def test_multiplying_a_text_or_a_list_is_bounded(source: str) -> None:
    assert _refused(source).limit == sandbox.SIZE


@pytest.mark.parametrize(
    "source", ["{{ 10 ** (10 ** 8) }}", "{{ 9**999999 }}", "{{ (2 ** 3000) * (2 ** 3000) }}"]
)
def test_huge_powers_are_refused(source: str) -> None:
    assert _refused(source).limit == sandbox.NUMBER


def test_squaring_a_number_in_a_loop_is_bounded() -> None:
    source = (
        "{% set ns = namespace(n=3) %}{% for i in range(40) %}"
        "{% set ns.n = ns.n * ns.n %}{% endfor %}"
    )
    assert _refused(source).limit == sandbox.NUMBER


@pytest.mark.parametrize(
    "source",
    [
        "{% set ns = namespace(s='xy') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "{% set ns = namespace(s='xy') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "{% set ns = namespace(s=['x']) %}{% for i in range(40) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "{% set l = ['x'] %}{% for i in range(40) %}{{ l.extend(l) }}{% endfor %}",
    ],
)
def test_doubling_in_a_loop_is_bounded(source: str) -> None:
    assert _refused(source).limit == sandbox.SIZE


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x'|center(999999999) }}",
        "{{ 'x'.center(999999999) }}",
        "{{ 'x'.ljust(999999999) }}",
        "{{ 'x'.rjust(999999999) }}",
        "{{ 'x'.zfill(999999999) }}",
        "{{ ('\t' * 1000).expandtabs(999999) }}",
        "{{ '{:>999999999}'.format('x') }}",
        "{{ '{0:{1}}'.format('x', 999999999) }}",
        "{{ '%999999999s'|format('x') }}",
        "{{ '%999999999s' % 'x' }}",
        "{{ ('a\n' * 1000)|indent(999999) }}",
        "{{ ('a ' * 1000)|wordwrap(1, wrapstring='x' * 10000) }}",
        "{{ [1]|batch(999999999, 'x') }}",
        "{{ [1]|slice(999999999) }}",
        "{{ ('x' * 10000)|replace('x', 'y' * 10000) }}",
        "{{ ('x' * 10000).replace('x', 'y' * 10000) }}",
        "{{ ([('x' * 10000)] * 10000)|join }}",
        "{{ ('x' * 10000).join(['y'] * 10000) }}",
        "{{ (1).to_bytes(999999999, 'big') }}",
    ],
)
def test_widths_and_paddings_cannot_blow_up(source: str) -> None:
    assert _refused(source).limit == sandbox.SIZE


def test_a_recursive_macro_is_bounded() -> None:
    source = (
        "{% macro twice(n) %}{% if n %}{{ twice(n - 1) }}{{ twice(n - 1) }}{% endif %}"
        "{% endmacro %}"
        "{{ twice(40) }}"
    )
    assert _refused(source).limit in (sandbox.CALLS, sandbox.OUTPUT, sandbox.SIZE)


def test_endless_macro_recursion_fails_cleanly() -> None:
    with pytest.raises(RenderError):
        render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", {})


def test_the_output_is_bounded() -> None:
    source = "{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}"
    assert _refused(source).limit == sandbox.OUTPUT


def test_a_captured_block_is_bounded() -> None:
    source = (
        "{% set big %}{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}{% endset %}"
        "{{ big|length }}"
    )
    assert _refused(source).limit == sandbox.SIZE


def test_printing_a_huge_list_is_refused_before_it_is_built() -> None:
    source = "{% set s = 'x' * 100000 %}{{ [s] * 100000 }}"
    assert _refused(source).limit == sandbox.SIZE


def test_a_slow_template_is_stopped_by_the_clock(monkeypatch) -> None:
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.05)
    source = (
        "{% for i in range(1000) %}{% for j in range(9) %}"
        "{{ (('abc ' * 2000)|wordcount) }}{% endfor %}{% endfor %}"
    )
    assert _refused(source).limit == sandbox.TIME


def test_each_field_is_named_in_a_clear_message() -> None:
    bomb = "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}"
    with pytest.raises(RenderError) as caught:
        render_texts(("Hello", bomb), {})
    assert str(caught.value) == (
        "Body: the template repeats too much (more than 10,000 loop turns); simplify the loop."
    )
    with pytest.raises(RenderError) as caught:
        render_texts(("{{ 'x' * 10**8 }}", "Fine"), {})
    assert str(caught.value).startswith("Subject: ")
    assert "too long" in str(caught.value)


def test_a_legitimate_loop_over_invoices_still_renders() -> None:
    source = (
        "Dear {{ customer.name }},\n"
        "{% for inv in invoices %}- {{ inv.number }}: {{ inv.amount_due }} ({{ inv.due_date }})"
        "{{ ', ' if not loop.last }}{% endfor %}\n"
        "{{ invoices|length }} invoices; {{ '%05d'|format(42) }} {{ 'a' ~ 'b' ~ 1 }} "
        "{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ [1, 2] + [3] }} {{ 'x'|center(5) }}|"
        "{{ '{:>6}'.format('r') }} {{ (invoices|map(attribute='number')|join(', '))[:9] }}"
    )
    out = render(source, INVOICES)
    assert out.startswith("Dear Dupont,\n- F-1: 1,00 € (1 mars 2026), - F-2")
    assert out.endswith("40 invoices; 00042 ab1 1024 ababab [1, 2, 3]   x  |     r F-1, F-2,")


def test_limits_do_not_leak_between_renders() -> None:
    source = "{% for i in range(1000) %}{% for j in range(9) %}{% endfor %}{% endfor %}"
    for _ in range(3):
        render(source, {})  # 9,000 turns each: under the bound every time


@pytest.mark.parametrize(
    "source",
    [
        # outside review, F3: each text under MAX_SIZE, 1.5 GB kept in all before the time ran out
        "{% set l = [] %}{% for i in range(20) %}"
        "{% set _ = l.append(range(1000)|map('string')|map('center', 99999)|list) %}"
        "{% endfor %}{{ l|length }}",
        "{% set l = [] %}{% for i in range(90) %}{% for j in range(100) %}"
        "{% set _ = l.append('x' * 99999) %}{% endfor %}{% endfor %}{{ l|length }}",
        "{% set ns = namespace(l=[]) %}{% for i in range(900) %}"
        "{% set ns.l = ns.l + ['y' ~ ('x' * 99990)] %}{% endfor %}{{ ns.l|length }}",
    ],
)
def test_what_a_render_builds_is_bounded_altogether(source: str) -> None:
    assert _refused(source).limit == sandbox.BUILT


def test_the_total_bound_leaves_ordinary_loops_alone() -> None:
    text = render(
        "{% for i in invoices %}{{ i.number }} {{ i.amount_due|upper }} {{ i.due_date }}\n"
        "{% endfor %}",
        INVOICES,
    )
    assert text.count("F-") == 40
