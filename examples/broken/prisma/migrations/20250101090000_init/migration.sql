-- CreateTable
CREATE TABLE "Product" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,

    CONSTRAINT "Product_pkey" PRIMARY KEY ("id")
);

-- Seed one row, so the next migration's NOT NULL column has something to fail on.
INSERT INTO "Product" ("title") VALUES ('Example product');
