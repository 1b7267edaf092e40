-- Orders as the marketplace API delivered them (validated and upserted by the pipeline),
-- with the day they were placed.
select
    order_id,
    customer_id,
    partner_id,
    domain,
    sku,
    quantity,
    amount,
    currency,
    status,
    cast(created_at as date) as day,
    created_at,
    updated_at
from {{ source('marketplace', 'orders') }}
