"""Agno's timestamps: `iso_z` against the rule it implements, for any moment and offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from convostore.compat.agno.wire import iso_z

OFFSETS = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    ),
)


@given(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30)),
    OFFSETS,
)
def test_iso_z_is_the_utc_second_with_a_z(moment: datetime, offset: timezone | None) -> None:
    value = moment.replace(tzinfo=offset)
    utc = value.replace(tzinfo=UTC) if offset is None else value.astimezone(UTC)
    expected = f"{utc:%Y-%m-%dT%H:%M:%S}Z"
    assert iso_z(value) == expected


def test_no_moment_is_none() -> None:
    assert iso_z(None) is None
