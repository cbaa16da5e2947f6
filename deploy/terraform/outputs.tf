output "composer_environment" {
  description = "Name of the Composer environment (deploy.py --environment)."
  value       = google_composer_environment.taxi_flows.name
}

output "composer_dag_prefix" {
  description = "Where Composer reads the DAGs from (deploy.py syncs dags/ and include/taxi_flows/ there)."
  value       = google_composer_environment.taxi_flows.config[0].dag_gcs_prefix
}

output "airflow_uri" {
  description = "The Airflow UI of the environment."
  value       = google_composer_environment.taxi_flows.config[0].airflow_uri
}

output "service_account" {
  description = "The workers' service account."
  value       = google_service_account.taxi_flows.email
}

output "cloud_sql_public_ip" {
  description = "Public IP of the Cloud SQL instance (when enable_cloud_sql)."
  value       = var.enable_cloud_sql ? google_sql_database_instance.taxi[0].public_ip_address : null
}
