"""Interface text of the briefing page (pages/briefing.py)."""

TEXT: dict[str, tuple[str, str]] = {
    "nav.briefing": ("简报", "Briefing"),
    "nav.briefing.help": ("生成可打印、可转发的经营简报PDF：摘要、指标、趋势、异常、客户反馈与市场。",
                          "A printable management briefing PDF: summary, KPIs, trends, anomalies, feedback, market."),
    "br.title": ("经营简报", "Management briefing"),
    "br.caption": ("选择期间、范围、语言和内容，预览摘要，点击按钮生成PDF（数字与各页面同口径）。",
                   "Choose the period, scope, language and sections, preview the summary, then build the PDF "
                   "(the numbers are those of the dashboard)."),
    "br.grain": ("期间类型", "Period type"),
    "br.period": ("期间", "Period"),
    "br.scope": ("范围", "Scope"),
    "br.scope.all": ("全行", "Whole bank"),
    "br.scope.region": ("区域：{name}", "Region: {name}"),
    "br.lang": ("简报语言", "Briefing language"),
    "br.sections": ("包含内容", "Sections"),
    "br.preview": ("摘要预览", "Summary preview"),
    "br.preview_none": ("该期间没有可用于摘要的数据。", "No data to summarise for this period."),
    "br.build": ("生成PDF", "Build the PDF"),
    "br.build.help": ("点击后才生成，进度条显示当前步骤（全行季度简报约十余秒）。",
                      "Built when clicked; a progress bar shows the step (some ten seconds for a quarterly "
                      "whole-bank briefing)."),
    "br.built": ("已生成（{kb:.0f} KB，用时 {s:.1f} 秒）", "built ({kb:.0f} KB in {s:.1f} s)"),
    "br.failed": ("未能生成", "not built"),
    "br.download": ("下载PDF", "Download the PDF"),
    "br.download.help": ("下载刚生成的简报；更改期间、范围、语言或内容后需重新生成。",
                         "The briefing just built; change the period, scope, language or sections and build again."),
    "br.empty": ("尚未导入数据。请到“数据管理”页上传文件。", "No data loaded yet. Upload files on the Data page."),
    "br.note": ("PDF 为 A4，嵌入开源中文字体 Kurinto Sans SC（SIL OFL 1.1），文字可选择、可检索；每页页脚注明期间、范围和页码。",
                "A4 PDF with the open-source CJK font Kurinto Sans SC (SIL OFL 1.1) embedded; text is selectable "
                "and searchable; every footer names the period, scope and page."),
}
