-- Customers that passed validation (phone numbers normalised to E.164, e-mails hashed).
select
    customer_id,
    country,
    phone,
    email,
    created_at
from {{ source('marketplace', 'customers') }}
