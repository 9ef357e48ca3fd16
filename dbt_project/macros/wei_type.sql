{#-
    The exact type of every amount in wei (or a token's smallest unit) from the staging layer on:
    decimal(38, 0), the widest exact decimal that DuckDB, Spark, Trino, Snowflake and BigQuery
    (bignumeric aside) all share. 10^38 wei is 10^20 ether, far above any real supply, and sums that
    would overflow it raise an error instead of silently losing digits.
-#}
{% macro wei_type() -%}
    decimal(38, 0)
{%- endmacro %}
