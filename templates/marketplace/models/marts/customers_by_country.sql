-- Customers and their orders per country; phone numbers are normalised to E.164 by the pipeline.
{{ config(materialized='table') }}

select
    c.country,
    count(distinct c.customer_id) as customers,
    count(o.order_id) as orders,
    coalesce(sum(o.amount), 0) as revenue
from {{ ref('stg_customers') }} as c
left join {{ ref('stg_orders') }} as o using (customer_id)
group by c.country
order by revenue desc
