-- The shopping funnel per partner from the clickstream (events landed by the bus sinks):
-- sessions that viewed a page, added to a cart, ordered.
{{ config(materialized='table') }}

with
    views as (
        select cast(event ->> '$.partner_id' as integer) as partner_id, count(distinct event ->> '$.session_id') as sessions
        from {{ source('clickstream', 'marketplace_page_view') }}
        group by 1
    ),
    carts as (
        select cast(event ->> '$.partner_id' as integer) as partner_id, count(distinct event ->> '$.session_id') as carts
        from {{ source('clickstream', 'marketplace_add_to_cart') }}
        group by 1
    ),
    orders as (
        select cast(event ->> '$.partner_id' as integer) as partner_id, count(distinct event ->> '$.session_id') as orders
        from {{ source('clickstream', 'marketplace_order_created') }}
        group by 1
    )

select
    views.partner_id,
    views.sessions,
    coalesce(carts.carts, 0) as carts,
    coalesce(orders.orders, 0) as orders,
    round(100.0 * coalesce(orders.orders, 0) / views.sessions, 2) as conversion_pct
from views
left join carts using (partner_id)
left join orders using (partner_id)
order by views.partner_id
