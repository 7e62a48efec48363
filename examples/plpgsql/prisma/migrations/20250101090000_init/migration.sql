-- Extensions first; IF NOT EXISTS keeps a re-run (or a database that has it) harmless.
CREATE EXTENSION IF NOT EXISTS "pgcrypto";

-- CreateTable
CREATE TABLE "Account" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" TEXT NOT NULL,
    "note" TEXT NOT NULL DEFAULT 'none; yet', -- a semicolon inside a literal; and one in this comment
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

/* A block comment; with a semicolon; and a quote ' that is not a literal */
CREATE UNIQUE INDEX "Account_email_key" ON "Account"("email");

COMMENT ON TABLE "Account" IS 'People who sign in; one row each.';
COMMENT ON COLUMN "Account"."note" IS 'Free text -- not a comment; a literal';
