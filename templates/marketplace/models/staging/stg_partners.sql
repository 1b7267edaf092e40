-- The marketplace's partners, one row each.
select
    partner_id,
    name as partner,
    country
from {{ source('marketplace', 'partners') }}
