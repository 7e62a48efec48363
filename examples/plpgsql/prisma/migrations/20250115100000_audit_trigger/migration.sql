-- CreateTable
CREATE TABLE "AuditLog" (
    "id" BIGSERIAL NOT NULL,
    "accountId" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")
);

-- A dollar-quoted function body full of semicolons, as `prisma migrate dev --create-only` users write them.
CREATE OR REPLACE FUNCTION "touch_updated_at"() RETURNS TRIGGER AS $$
BEGIN
    NEW."updatedAt" := CURRENT_TIMESTAMP;
    INSERT INTO "AuditLog" ("accountId", "action") VALUES (NEW."id", TG_OP || '; by trigger');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "Account_touch_updated_at"
    BEFORE UPDATE ON "Account"
    FOR EACH ROW EXECUTE FUNCTION "touch_updated_at"();

-- A tagged dollar quote holding an untagged one.
CREATE OR REPLACE FUNCTION "account_count"() RETURNS BIGINT AS $fn$
    SELECT count(*) FROM "Account" WHERE "note" <> $$none; yet$$;
$fn$ LANGUAGE sql STABLE;
