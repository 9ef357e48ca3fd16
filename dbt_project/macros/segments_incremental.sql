{#-
    Pre-hook of the marts that keep one set of rows per run date (wallet_abc_class, abc_cuts,
    rule_segments): on an incremental run it deletes the rows of this run's as_of (every chain), and the
    model then inserts them again, recomputed. A rerun for the same as_of therefore replaces that as_of's
    rows, rows of other dates stay, and an as_of whose population shrank (a reorg, a rule edited) keeps no
    stale row. Runs in the transaction of the insert. A full refresh drops the history.
-#}
{% macro segments_delete_as_of() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where as_of = cast('{{ as_of_date() }}' as date)
    {%- endif -%}
{%- endmacro %}
