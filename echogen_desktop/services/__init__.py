"""The async service layer: Supabase in, typed records out."""
