"""An order's UUID, derived from its id: ``uuid3(ORDER_NAMESPACE, str(id))``.

PostgreSQL sets ``orders.uuid`` to the same value when the engine inserts the order (the
trigger of migration 0019, function ``bursa_order_uuid``), so whoever holds an order id
knows its UUID without reading it, and a replayed command log gives every order the UUID it
had. Orders inserted before migration 0019 keep the random UUID they were given.
"""

import uuid

# uuid5(NAMESPACE_URL, "https://bursa.invalid/orders"): fixed forever, the SQL twin has it too.
ORDER_NAMESPACE = uuid.UUID("989eb771-31d3-5cea-b755-9a50b4a75a0a")


def order_uuid(order_id: int) -> str:
    return str(uuid.uuid3(ORDER_NAMESPACE, str(order_id)))
