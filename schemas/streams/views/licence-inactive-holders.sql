-- Licences held by users who have not logged in for a while: one row per user and licence
-- (their profile's user licence, and each permission set licence assigned to them).
--   SELECT * FROM neurons_licence_inactive_holders WHERE days_since_login >= 90;
-- A user who never logged in counts from when they were created (never_logged_in says so).
-- Only users the connector imports appear; deactivated users hold no user licence (Salesforce
-- counts only active users in UsedLicenses) but keep their permission set licence assignments.
-- {{table:<stream>}} / {{schema:<stream>}}: the sink puts in each stream's table and schema as configured.
CREATE OR REPLACE VIEW {{schema:users}}.neurons_licence_inactive_holders AS
WITH holders AS (
  SELECT u.id AS user_id, 'user-license'::text AS licence_kind, ul.id AS licence_id,
         COALESCE(ul.master_label, ul.name) AS licence, ul.license_definition_key AS licence_key
  FROM {{table:users}} u
  JOIN {{table:user-licenses}} ul ON ul.license_definition_key = u.user_license_key
  WHERE u.status <> 'inactive'
  UNION ALL
  SELECT a.user_id, 'permission-set-license'::text, a.permission_set_license_id,
         a.permission_set_license_label, a.permission_set_license_name
  FROM {{table:permission-set-license-assignments}} a
)
SELECT h.user_id, u.name AS user_name, u.username, h.licence_kind, h.licence_id, h.licence, h.licence_key,
       u.last_login_at,
       u.last_login_at IS NULL AS never_logged_in,
       floor(extract(epoch FROM (now() - COALESCE(u.last_login_at, u.created_at))) / 86400)::integer AS days_since_login
FROM holders h
JOIN {{table:users}} u ON u.id = h.user_id;
