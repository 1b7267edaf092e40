-- Revenue per day, partner and shop domain (cancelled orders excluded).
CREATE OR REPLACE TABLE marts.daily_revenue AS
SELECT
  CAST(o.created_at AS DATE) AS day,
  o.partner_id,
  p.name AS partner,
  o.domain,
  count(*) AS orders,
  sum(o.amount) AS revenue
FROM marketplace.orders AS o
JOIN marketplace.partners AS p USING (partner_id)
WHERE o.status <> 'cancelled'
GROUP BY ALL
ORDER BY day, partner_id, domain;
