{#-
    Custom schemas are used exactly as named: a model configured with `schema: staging` lands in
    `staging`, not in dbt's default `<target schema>_staging`. Models without a custom schema go to the
    target's schema (`main` in DuckDB). One warehouse file per environment keeps dev and prod apart, so
    the prefix dbt adds by default would only make the names analysts type longer.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
