DROP TABLE subscriptions;
DROP TYPE subscription_status;
