"""Order UUIDs are uuid3 of the order id, computed without UUID objects on the write path."""

import uuid

from hypothesis import given
from hypothesis import strategies as st

from bursa.engine.order_uuids import ORDER_NAMESPACE, order_uuid


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_order_uuid_is_uuid3_of_the_id(order_id: int) -> None:
    assert order_uuid(order_id) == str(uuid.uuid3(ORDER_NAMESPACE, str(order_id)))
