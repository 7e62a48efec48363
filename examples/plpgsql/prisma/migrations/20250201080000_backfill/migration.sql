-- A DO block: procedural code in a migration, semicolons and all.
DO $$
DECLARE
    n INTEGER;
BEGIN
    INSERT INTO "Account" ("email") VALUES ('first@example.com'), ('second@example.com');
    UPDATE "Account" SET "note" = 'backfilled; ok' WHERE "email" = 'first@example.com';
    SELECT count(*) INTO n FROM "AuditLog";
    IF n <> 1 THEN
        RAISE EXCEPTION 'expected one audit row, found %', n;
    END IF;
END
$$;

COMMENT ON FUNCTION "account_count"() IS 'Accounts with a note; used by the dashboard';
