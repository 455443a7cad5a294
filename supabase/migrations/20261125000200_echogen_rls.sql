-- EchoGen Desktop: row-level security, table privileges and realtime.
--
-- The permission matrix and the reasons for it are in docs/data-conventions.md. In short:
--   profiles            select, update (full_name, avatar_url) of your own row
--   user_api_keys,
--   scraped_content,
--   podcast_scripts,
--   generated_podcasts  select, insert, update, delete your own rows
--   processing_jobs     select; insert a 'queued' job; update only to cancel it; no delete
--   usage_events        select only (the server writes them with the service role)
--   user_sessions       select, insert, delete (sign a device out); no update
-- anon gets nothing. service_role (the backend and workers) gets everything and bypasses RLS.

-- ------------------------------------------------------------------- RLS on
-- Every table in public, including tables an older schema left behind (upstream's
-- account_deletion_requests, onboarding_responses): with RLS on and no policy, only the
-- service role reaches them.
do $$
declare
  t record;
begin
  for t in
    select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p')
  loop
    execute format('alter table public.%I enable row level security', t.relname);
  end loop;
end $$;

-- ---------------------------------------------------------------- privileges
-- Supabase's default privileges grant ALL on new public tables to anon and authenticated,
-- so each right has to be taken away explicitly and given back one by one.
revoke all on table
  public.profiles, public.user_sessions, public.user_api_keys, public.scraped_content,
  public.podcast_scripts, public.generated_podcasts, public.processing_jobs, public.usage_events
  from public, anon, authenticated;

grant all on table
  public.profiles, public.user_sessions, public.user_api_keys, public.scraped_content,
  public.podcast_scripts, public.generated_podcasts, public.processing_jobs, public.usage_events
  to service_role;

grant select on public.profiles to authenticated;
grant update (full_name, avatar_url) on public.profiles to authenticated;

grant select, insert, update, delete on
  public.user_api_keys, public.scraped_content, public.podcast_scripts, public.generated_podcasts
  to authenticated;

-- A client may only ever change a job's status (to 'cancelled', says the policy below);
-- result, error and the timestamps are the worker's.
grant select, insert on public.processing_jobs to authenticated;
grant update (status) on public.processing_jobs to authenticated;

grant select on public.usage_events to authenticated;

grant select, insert, delete on public.user_sessions to authenticated;

-- ------------------------------------------------------------------ policies
-- This migration owns every policy on its eight tables: any other one (for example the data
-- model's broad "for all" example) is dropped, so the matrix above is exactly what holds.
do $$
declare
  p record;
begin
  for p in
    select policyname, tablename from pg_policies
    where schemaname = 'public' and tablename in (
      'profiles', 'user_sessions', 'user_api_keys', 'scraped_content', 'podcast_scripts',
      'generated_podcasts', 'processing_jobs', 'usage_events')
  loop
    execute format('drop policy if exists %I on public.%I', p.policyname, p.tablename);
  end loop;
end $$;

-- `(select auth.uid())` rather than a bare `auth.uid()`: same meaning, but Postgres evaluates it
-- once per statement instead of once per row (Supabase's RLS performance advice).

-- profiles: keyed by id, created by the auth.users trigger, removed by the cascade.
create policy profiles_select_own on public.profiles
  for select to authenticated using ((select auth.uid()) = id);
create policy profiles_update_own on public.profiles
  for update to authenticated using ((select auth.uid()) = id) with check ((select auth.uid()) = id);

-- Plain owner-only tables: one policy per command.
do $$
declare
  t text;
begin
  foreach t in array array[
    'user_api_keys', 'scraped_content', 'podcast_scripts', 'generated_podcasts'
  ] loop
    execute format(
      'create policy %I on public.%I for select to authenticated using ((select auth.uid()) = user_id)',
      t || '_select_own', t);
    execute format(
      'create policy %I on public.%I for insert to authenticated with check ((select auth.uid()) = user_id)',
      t || '_insert_own', t);
    execute format(
      'create policy %I on public.%I for update to authenticated '
      'using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id)',
      t || '_update_own', t);
    execute format(
      'create policy %I on public.%I for delete to authenticated using ((select auth.uid()) = user_id)',
      t || '_delete_own', t);
  end loop;
end $$;

-- processing_jobs: the client queues work and may cancel it; only the worker moves it on.
create policy processing_jobs_select_own on public.processing_jobs
  for select to authenticated using ((select auth.uid()) = user_id);
create policy processing_jobs_insert_own on public.processing_jobs
  for insert to authenticated with check (
    (select auth.uid()) = user_id
    and status = 'queued'
    and result is null and error is null and started_at is null and finished_at is null
  );
create policy processing_jobs_update_own on public.processing_jobs
  for update to authenticated
  using ((select auth.uid()) = user_id and status in ('queued', 'running'))
  with check ((select auth.uid()) = user_id and status = 'cancelled');

-- usage_events: read your own costs; never write or erase them.
create policy usage_events_select_own on public.usage_events
  for select to authenticated using ((select auth.uid()) = user_id);

-- user_sessions: the app records each sign-in and can forget a device; history is not edited.
create policy user_sessions_select_own on public.user_sessions
  for select to authenticated using ((select auth.uid()) = user_id);
create policy user_sessions_insert_own on public.user_sessions
  for insert to authenticated with check ((select auth.uid()) = user_id);
create policy user_sessions_delete_own on public.user_sessions
  for delete to authenticated using ((select auth.uid()) = user_id);

-- ------------------------------------------------------------------ realtime
-- The app follows its jobs live. Only where the publication exists (a bare Postgres may lack
-- it), and only once (adding a member twice is an error).
do $$
begin
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime')
     and not exists (
       select 1 from pg_publication_tables
       where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'processing_jobs'
     ) then
    alter publication supabase_realtime add table public.processing_jobs;
  end if;
end $$;
