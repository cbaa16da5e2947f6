"""What is loaded where: the counts of every target per colour and month (counts), where they
are stored (store), and the Airflow UI page that shows them (page, Airflow 3.1+)."""
