-- a plan in use can no longer be deleted; renaming one follows through
ALTER TABLE subscriptions
	DROP CONSTRAINT subscriptions_plan_id_fkey,
	ADD CONSTRAINT subscriptions_plan_id_fkey FOREIGN KEY (plan_id)
		REFERENCES plans (id) ON UPDATE CASCADE ON DELETE RESTRICT;
