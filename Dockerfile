# The bundle's Airflow image: the official image with what the DAGs need (requirements.txt).
# The DAGs, the shared package (include/) and plugins/ are mounted by docker-compose.yaml, as
# Cloud Composer syncs them from its bucket: the same files everywhere.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

COPY requirements.txt /requirements.txt
# Pin the image's own Airflow so that no requirement can up- or downgrade it.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /requirements.txt

# include/ holds the package taxi_flows; dags/ and plugins/ are on sys.path already.
ENV PYTHONPATH=/opt/airflow/include
