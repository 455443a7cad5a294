"""A local Supabase-compatible stack: PostgreSQL with real RLS behind an Auth/PostgREST/Storage gateway."""
