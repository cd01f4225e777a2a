-- One database per pool on the shared pgvector server (admin guide §4.5 P6: per-pool DBs, never shared).
-- cellule_a is POSTGRES_DB; the pools create the vector extension themselves at first boot.
create database cellule_b;
create database cellule_c;
