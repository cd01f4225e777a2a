-- Administrators scoped to projects (issue 15): null sees and manages every project (the default, as
-- before); a list limits the administrator to those projects and their documents, in the API and on
-- the Projects page; any other project answers 404, like an API key bound to a project. Stored with
-- the account, on the pool that holds it (administrators are per pool).
alter table admin_users add column projects text[];
