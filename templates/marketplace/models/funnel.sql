-- The shopping funnel per partner from the clickstream (events landed by the bus sinks):
-- sessions that viewed a page, added to a cart, ordered.
CREATE OR REPLACE TABLE marts.funnel AS
WITH
  views AS (
    SELECT CAST(event ->> '$.partner_id' AS INTEGER) AS partner_id, count(DISTINCT event ->> '$.session_id') AS sessions
    FROM events.marketplace_page_view GROUP BY 1
  ),
  carts AS (
    SELECT CAST(event ->> '$.partner_id' AS INTEGER) AS partner_id, count(DISTINCT event ->> '$.session_id') AS carts
    FROM events.marketplace_add_to_cart GROUP BY 1
  ),
  orders AS (
    SELECT CAST(event ->> '$.partner_id' AS INTEGER) AS partner_id, count(DISTINCT event ->> '$.session_id') AS orders
    FROM events.marketplace_order_created GROUP BY 1
  )
SELECT
  views.partner_id,
  views.sessions,
  coalesce(carts.carts, 0) AS carts,
  coalesce(orders.orders, 0) AS orders,
  round(100.0 * coalesce(orders.orders, 0) / views.sessions, 2) AS conversion_pct
FROM views
LEFT JOIN carts USING (partner_id)
LEFT JOIN orders USING (partner_id)
ORDER BY views.partner_id;
