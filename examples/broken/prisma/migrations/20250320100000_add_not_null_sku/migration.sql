-- AlterTable: a classic production failure. The column is added with no default while rows exist,
-- so PostgreSQL refuses it. The index statement before it has already been applied (Prisma does
-- not run a migration in a transaction), which is why the pipeline takes a snapshot first.
-- (No semicolons in these comments: Prisma's WASM engine splits the script on every one.)
CREATE INDEX "Product_title_idx" ON "Product"("title");

ALTER TABLE "Product" ADD COLUMN "sku" TEXT NOT NULL;
