# Cloud Composer 3 (Airflow 3) for taxi-flows: the environment, the data bucket, the BigQuery
# dataset, a service account with only the roles the DAGs need, and, off by default, a Cloud SQL
# PostgreSQL for taxi_postgres. The DAGs, the shared package and the settings are deployed by
# deploy/deploy.py (Terraform does not copy files).

locals {
  apis = [
    "composer.googleapis.com",
    "bigquery.googleapis.com",
    "storage.googleapis.com",
    "sqladmin.googleapis.com",
    "secretmanager.googleapis.com", # the connection taxi_postgres (deploy.py --postgres-uri)
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  service            = each.value
  disable_on_destroy = false
}

# The identity of the environment's workers: runs every task.
resource "google_service_account" "taxi_flows" {
  account_id   = "taxi-flows"
  display_name = "taxi-flows Airflow workers"
}

# Composer 3 needs this role on its environment's service account.
resource "google_project_iam_member" "composer_worker" {
  project = var.project
  role    = "roles/composer.worker"
  member  = "serviceAccount:${google_service_account.taxi_flows.email}"
}

# BigQuery jobs (load, MERGE, SELECT 1) run in the project.
resource "google_project_iam_member" "bigquery_job_user" {
  project = var.project
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.taxi_flows.email}"
}

resource "google_storage_bucket" "data" {
  name                        = var.bucket
  location                    = var.location
  uniform_bucket_level_access = true
  depends_on                  = [google_project_service.apis]
}

# taxi_web_to_gcs, taxi_daily_trips_to_gcs and taxi_gcs_to_bigquery write, list, read and delete objects.
resource "google_storage_bucket_iam_member" "data_object_admin" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.taxi_flows.email}"
}

resource "google_bigquery_dataset" "taxi" {
  dataset_id  = var.dataset
  location    = var.location
  description = "NYC taxi trips loaded by taxi-flows (replaced by source month)."
  depends_on  = [google_project_service.apis]
}

# Create tables, load, MERGE, drop staging tables: on this dataset only.
resource "google_bigquery_dataset_iam_member" "taxi_data_editor" {
  dataset_id = google_bigquery_dataset.taxi.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.taxi_flows.email}"
}

resource "google_composer_environment" "taxi_flows" {
  name   = var.environment_name
  region = var.region

  config {
    software_config {
      image_version = var.image_version
      env_variables = {
        TAXI_BQ_LOCATION = var.location
        TAXI_CATCHUP     = "false"
      }
    }
    node_config {
      service_account = google_service_account.taxi_flows.email
    }
    environment_size = "ENVIRONMENT_SIZE_SMALL"
  }

  depends_on = [google_project_iam_member.composer_worker, google_project_service.apis]
}

# --- optional: Cloud SQL PostgreSQL for taxi_postgres ----------------------------------------
resource "google_sql_database_instance" "taxi" {
  count               = var.enable_cloud_sql ? 1 : 0
  name                = "taxi-flows-postgres"
  database_version    = "POSTGRES_15"
  region              = var.region
  deletion_protection = false

  settings {
    tier = var.cloud_sql_tier
    ip_configuration {
      ipv4_enabled = true
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_sql_database" "taxi" {
  count    = var.enable_cloud_sql ? 1 : 0
  name     = "taxi"
  instance = google_sql_database_instance.taxi[0].name
}

resource "google_sql_user" "taxi" {
  count    = var.enable_cloud_sql ? 1 : 0
  name     = "taxi"
  instance = google_sql_database_instance.taxi[0].name
  password = var.cloud_sql_password
}
