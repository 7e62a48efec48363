-- AlterTable: a classic production failure. The column is added with no default while rows exist,
-- so PostgreSQL refuses it. The script goes to PostgreSQL whole, as one implicit transaction, so the
-- index before it is rolled back too; Prisma still records the migration as failed and refuses the
-- next deploy until someone resolves it. Scripts that commit by themselves, or earlier migrations of
-- the same release, do stay applied: that is why the pipeline takes a snapshot first.
CREATE INDEX "Product_title_idx" ON "Product"("title");

ALTER TABLE "Product" ADD COLUMN "sku" TEXT NOT NULL;
