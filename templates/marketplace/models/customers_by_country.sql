-- Customers and their orders per country; phone numbers are normalised to E.164 by the pipeline.
CREATE OR REPLACE TABLE marts.customers_by_country AS
SELECT
  c.country,
  count(DISTINCT c.customer_id) AS customers,
  count(o.order_id) AS orders,
  coalesce(sum(o.amount), 0) AS revenue
FROM marketplace.customers AS c
LEFT JOIN marketplace.orders AS o USING (customer_id)
GROUP BY c.country
ORDER BY revenue DESC;
