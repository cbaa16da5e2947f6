variable "project" {
  description = "The Google Cloud project."
  type        = string
}

variable "region" {
  description = "Region of the Composer environment (and of the optional Cloud SQL instance)."
  type        = string
  default     = "europe-west1"
}

variable "location" {
  description = "Location of the bucket and the BigQuery dataset (a region or a multi-region); the DAGs get it as TAXI_BQ_LOCATION."
  type        = string
  default     = "EU"
}

variable "environment_name" {
  description = "Name of the Cloud Composer 3 environment."
  type        = string
  default     = "taxi-flows"
}

variable "image_version" {
  description = "Cloud Composer 3 image: the newest build CI tests (see README, Supported Airflow versions); an Airflow 3.1 or 2.10.5 build works too."
  type        = string
  default     = "composer-3-airflow-3.3.1-build.0"
}

variable "bucket" {
  description = "The data bucket of the DAGs (Airflow Variable taxi_gcs_bucket)."
  type        = string
}

variable "dataset" {
  description = "The BigQuery dataset of the DAGs (Airflow Variable taxi_bq_dataset)."
  type        = string
  default     = "ny_taxi"
}

variable "enable_cloud_sql" {
  description = "Create a Cloud SQL PostgreSQL instance for the connection taxi_postgres (costs money: off by default)."
  type        = bool
  default     = false
}

variable "cloud_sql_tier" {
  description = "Machine tier of the Cloud SQL instance."
  type        = string
  default     = "db-f1-micro"
}

variable "cloud_sql_password" {
  description = "Password of the Cloud SQL user taxi (only with enable_cloud_sql; pass it with TF_VAR_cloud_sql_password)."
  type        = string
  default     = null
  sensitive   = true
}
