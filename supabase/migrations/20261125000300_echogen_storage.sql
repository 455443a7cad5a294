-- EchoGen Desktop: private storage buckets and per-user folder policies.
--
-- Object names are `{user_id}/{row_id}/{filename}` (docs/data-conventions.md): the first folder
-- is the owner's auth id, which is what the policies check. Buckets are private; media is
-- shared through signed URLs.

insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('podcast-audio', 'podcast-audio', false, 524288000,
   array['audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/wav', 'audio/x-wav', 'audio/ogg',
         'audio/webm']),
  ('cover-art', 'cover-art', false, 10485760,
   array['image/png', 'image/jpeg', 'image/webp']),
  ('transcripts', 'transcripts', false, 52428800,
   array['text/plain', 'text/markdown', 'text/vtt', 'application/x-subrip', 'text/html',
         'application/pdf',
         'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
         'application/json', 'application/octet-stream'])
on conflict (id) do update set
  name = excluded.name,
  public = excluded.public,
  file_size_limit = excluded.file_size_limit,
  allowed_mime_types = excluded.allowed_mime_types;

-- storage.objects is shared by every bucket of the project, so the policy names carry a prefix.
-- Upsert needs insert, select and update together; move needs select, update and delete.
drop policy if exists echogen_objects_select_own on storage.objects;
create policy echogen_objects_select_own on storage.objects
  for select to authenticated
  using (
    bucket_id in ('podcast-audio', 'cover-art', 'transcripts')
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

drop policy if exists echogen_objects_insert_own on storage.objects;
create policy echogen_objects_insert_own on storage.objects
  for insert to authenticated
  with check (
    bucket_id in ('podcast-audio', 'cover-art', 'transcripts')
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

drop policy if exists echogen_objects_update_own on storage.objects;
create policy echogen_objects_update_own on storage.objects
  for update to authenticated
  using (
    bucket_id in ('podcast-audio', 'cover-art', 'transcripts')
    and (storage.foldername(name))[1] = (select auth.uid())::text
  )
  with check (
    bucket_id in ('podcast-audio', 'cover-art', 'transcripts')
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

drop policy if exists echogen_objects_delete_own on storage.objects;
create policy echogen_objects_delete_own on storage.objects
  for delete to authenticated
  using (
    bucket_id in ('podcast-audio', 'cover-art', 'transcripts')
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );
