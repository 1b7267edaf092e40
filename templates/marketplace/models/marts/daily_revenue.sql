-- Revenue per day, partner and shop domain (cancelled orders excluded).
{{ config(materialized='table') }}

select
    o.day,
    o.partner_id,
    p.partner,
    o.domain,
    count(*) as orders,
    sum(o.amount) as revenue
from {{ ref('stg_orders') }} as o
join {{ ref('stg_partners') }} as p using (partner_id)
where o.status <> 'cancelled'
group by all
order by day, partner_id, domain
